"""Text: normalisation and scripts, names across scripts, sentences and chunks, time expressions, near-duplicates."""
