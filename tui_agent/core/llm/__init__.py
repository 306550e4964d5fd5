"""Talking to models: one client for every OpenAI-compatible endpoint, the embedded local model
(its server, its file, its download) and the words we send."""
