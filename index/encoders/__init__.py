"""Encoders: the embedder seam, the bundled e5 model (onnxruntime, or sentence-transformers for other
models), the hashing fake, per-model calibration."""
