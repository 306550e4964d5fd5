import pytest
from tool import convert_length


def test_km_to_miles():
    assert convert_length(5, "km", "mi") == pytest.approx(3.10685596)


def test_feet_to_meters():
    assert convert_length(10, "ft", "m") == pytest.approx(3.048)


def test_same_unit():
    assert convert_length(7, "cm", "cm") == 7


def test_inches_to_cm():
    assert convert_length(1, "in", "cm") == pytest.approx(2.54)


def test_unknown_unit():
    with pytest.raises(ValueError):
        convert_length(1, "parsec", "m")


def test_unit_names():
    assert convert_length(5, "feet", "centimeters") == pytest.approx(152.4)


def test_metres_to_inches():
    assert convert_length(2, "metres", "inch") == pytest.approx(78.74015748)
