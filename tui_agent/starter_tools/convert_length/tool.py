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


def convert_length(value: float, from_unit: str, to_unit: str) -> float:
    """Convert value between mm, cm, m, km, in, ft, yd and mi; raises ValueError on other units."""
    source, target = from_unit.strip().lower(), to_unit.strip().lower()
    if source not in METERS or target not in METERS:
        raise ValueError("unknown unit; use one of " + ", ".join(METERS))
    return round(value * METERS[source] / METERS[target], 10)
