"""One request, start to end: decide (reuse, make, ask or refuse) by evidence from running code,
bind and run a tool, word the answer, make a new tool when none answers. Owns the request's path
and its one final event. May use synthesis, the library, the model and the sandbox; never the
screens (nothing in core may)."""
