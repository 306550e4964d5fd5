"""What a tool is, as plain data shared by every room: its spec, its test cases, its record."""
