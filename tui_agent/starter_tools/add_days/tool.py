from datetime import date, timedelta


def add_days(start: str, days: int) -> str:
    """Return the ISO date that is `days` days after start (before it when negative)."""
    return (date.fromisoformat(start) + timedelta(days=int(days))).isoformat()
