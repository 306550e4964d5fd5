def mean_of(numbers: list) -> float:
    """Return the arithmetic mean of numbers; raises ValueError for an empty list."""
    if not numbers:
        raise ValueError("mean of an empty list")
    return sum(float(n) for n in numbers) / len(numbers)
