def reverse_string(text: str) -> str:
    """Return the characters of text in reverse order."""
    if not isinstance(text, str):
        raise TypeError("text must be a string")
    return text[::-1]
