from datetime import date


def days_between(start: str, end: str) -> int:
    """Return the number of days from start to end (ISO dates); negative when end is earlier."""
    return (date.fromisoformat(end) - date.fromisoformat(start)).days
