"""Encoders: the embedder seam, the bundled e5 model, the hashing fake, per-model calibration."""
