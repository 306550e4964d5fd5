def _unit(name: str) -> str:
    text = name.strip().lower().replace("°", " ").replace("degrees", " ").replace("degree", " ").strip()
    unit = {
        "c": "C",
        "celsius": "C",
        "centigrade": "C",
        "f": "F",
        "fahrenheit": "F",
        "k": "K",
        "kelvin": "K",
    }.get(text)
    if unit is None:
        raise ValueError("units must be C, F or K (Celsius, Fahrenheit, Kelvin)")
    return unit


def convert_temperature(value: float, from_unit: str, to_unit: str) -> float:
    """Convert value between C, F and K (or Celsius, Fahrenheit, Kelvin, "degrees Celsius");
    raises ValueError on other units and below absolute zero."""
    source, target = _unit(from_unit), _unit(to_unit)
    celsius = {"C": value, "F": (value - 32) * 5 / 9, "K": value - 273.15}[source]
    if celsius < -273.15 - 1e-9:
        raise ValueError("below absolute zero")
    result = {"C": celsius, "F": celsius * 9 / 5 + 32, "K": celsius + 273.15}[target]
    return round(result, 10)
