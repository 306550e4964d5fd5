"""One request, start to end: the orchestrator decides (reuse, make, ask), the executor runs a
tool for the request, the responder words the answer."""
