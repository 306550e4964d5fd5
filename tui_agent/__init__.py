"""selfeng-tui: a self-engineering agent that lives in the terminal."""

__version__ = "0.1.0"
