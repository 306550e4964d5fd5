"""The local model's server process: llama-cpp-python's OpenAI-compatible server, with a prompt
cache that keeps what a prompt's state needs and no more.

The server's RAM cache stores each prompt's state so that the next call that starts the same
way reads only what is new. llama-cpp-python 0.3.36 also stores a copy of the whole logits
buffer with each state (n_batch x vocabulary floats, ~80 MB here) and leaves it out of the
cache's size: kept prompt after prompt, that filled 22 GB and the kernel killed the server.
Nothing reads those logits again (sampling runs on the context's own), so one row is kept.

Started shared (:mod:`shared_server`), it exits once no process that uses it is alive."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp.server.__main__ import main

from tui_agent.core.llm.shared_server import SharedServer, serve_while_used

SHARED = "--selfeng_shared"  # CACHE KEY: the machine-wide record this server answers to


class SlimRAMCache(llama_cpp.LlamaRAMCache):  # type: ignore[misc]
    def __setitem__(self, key: Any, value: Any) -> None:
        value.scores = value.scores[-1:].copy()  # load_state broadcasts one row over the rest
        super().__setitem__(key, value)


llama_cpp.LlamaRAMCache = SlimRAMCache  # what the server builds its cache from

if __name__ == "__main__":
    if SHARED in sys.argv:
        at = sys.argv.index(SHARED)
        shared = SharedServer(Path(sys.argv[at + 1]), sys.argv[at + 2])
        del sys.argv[at : at + 3]
        threading.Thread(target=serve_while_used, args=(shared,), daemon=True).start()
    main()
