METERS = {
    "mm": 0.001,
    "cm": 0.01,
    "m": 1.0,
    "km": 1000.0,
    "in": 0.0254,
    "ft": 0.3048,
    "yd": 0.9144,
    "mi": 1609.344,
}
NAMES = {
    "millimeter": "mm",
    "millimetre": "mm",
    "centimeter": "cm",
    "centimetre": "cm",
    "meter": "m",
    "metre": "m",
    "kilometer": "km",
    "kilometre": "km",
    "inch": "in",
    "inche": "in",
    "foot": "ft",
    "feet": "ft",
    "yard": "yd",
    "mile": "mi",
}


def _unit(name: str) -> str:
    text = name.strip().lower().rstrip(".")
    if text in METERS:
        return text
    singular = text[:-1] if text.endswith("s") else text
    if singular in NAMES or text in NAMES:
        return NAMES.get(text) or NAMES[singular]
    raise ValueError("unknown unit " + repr(name) + "; use one of " + ", ".join(METERS))


def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert value between mm, cm, m, km, in, ft, yd and mi (or their names, like "feet");
    raises ValueError on other units."""
    source, target = _unit(from_unit), _unit(to_unit)
    return round(value * METERS[source] / METERS[target], 10)
