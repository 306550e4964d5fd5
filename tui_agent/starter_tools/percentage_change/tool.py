def percentage_change(old: float, new: float) -> float:
    """Return (new - old) / old * 100; raises ValueError when old is 0."""
    if old == 0:
        raise ValueError("the old value must not be zero")
    return (float(new) - float(old)) / abs(float(old)) * 100.0
