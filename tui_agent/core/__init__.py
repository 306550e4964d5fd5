"""The engine. Nothing in this package may import Textual: the TUI and the headless CLI are two
thin views over the same services."""
