def median_of(numbers: list) -> float:
    """Return the median of numbers (mean of the two middle values for an even count)."""
    if not numbers:
        raise ValueError("median of an empty list")
    ordered = sorted(float(n) for n in numbers)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
