"""Storage: generations on disk, the SQLite article store, the FAISS vectors, read-only catalog views."""
