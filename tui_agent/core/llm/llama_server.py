"""The local model's server process: llama-cpp-python's OpenAI-compatible server, with a prompt
cache that keeps what a prompt's state needs and no more.

The server's RAM cache stores each prompt's state so that the next call that starts the same
way reads only what is new. llama-cpp-python 0.3.36 also stores a copy of the whole logits
buffer with each state (n_batch x vocabulary floats, ~80 MB here) and leaves it out of the
cache's size: kept prompt after prompt, that filled 22 GB and the kernel killed the server.
Nothing reads those logits again (sampling runs on the context's own), so one row is kept."""

from __future__ import annotations

from typing import Any

import llama_cpp
from llama_cpp.server.__main__ import main


class SlimRAMCache(llama_cpp.LlamaRAMCache):  # type: ignore[misc]
    def __setitem__(self, key: Any, value: Any) -> None:
        value.scores = value.scores[-1:].copy()  # load_state broadcasts one row over the rest
        super().__setitem__(key, value)


llama_cpp.LlamaRAMCache = SlimRAMCache  # what the server builds its cache from

if __name__ == "__main__":
    main()
