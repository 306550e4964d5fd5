def percentage_of(value: float, percent: float) -> float:
    """Return percent % of value, e.g. percentage_of(300, 15) == 45.0."""
    return float(value) * float(percent) / 100.0
