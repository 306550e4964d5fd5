"""The tool library: files on disk are the truth (store), the search index is derived from them
(embeddings, Chroma), and tools travel in and out as folders (sharing)."""
