"""What a tool is, as plain data shared by every room: its spec, its test cases, its record, and
the readers of hand-written tests and functions. Runs nothing and imports no other room."""
