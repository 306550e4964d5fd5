"""What a request itself says: the values it writes out, and whether a value came from it."""
