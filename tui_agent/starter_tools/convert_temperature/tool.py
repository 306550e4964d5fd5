def convert_temperature(value: float, from_unit: str, to_unit: str) -> float:
    """Convert value between C, F and K (case-insensitive); raises ValueError on other units."""
    units = {"C", "F", "K"}
    source, target = from_unit.strip().upper()[:1], to_unit.strip().upper()[:1]
    if source not in units or target not in units:
        raise ValueError("units must be C, F or K")
    celsius = {"C": value, "F": (value - 32) * 5 / 9, "K": value - 273.15}[source]
    if celsius < -273.15 - 1e-9:
        raise ValueError("below absolute zero")
    result = {"C": celsius, "F": celsius * 9 / 5 + 32, "K": celsius + 273.15}[target]
    return round(result, 10)
