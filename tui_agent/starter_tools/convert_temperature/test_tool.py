import pytest
from tool import convert_temperature


def test_boiling_point_to_fahrenheit():
    assert convert_temperature(100, "C", "F") == 212.0


def test_minus_five_celsius_is_23_fahrenheit():
    assert convert_temperature(-5, "C", "F") == pytest.approx(23.0)


def test_fahrenheit_to_celsius():
    assert convert_temperature(98.6, "F", "C") == pytest.approx(37.0)


def test_kelvin():
    assert convert_temperature(0, "C", "K") == pytest.approx(273.15)


def test_unknown_unit():
    with pytest.raises(ValueError):
        convert_temperature(1, "X", "C")


def test_below_absolute_zero():
    with pytest.raises(ValueError):
        convert_temperature(-300, "C", "K")


def test_unit_names():
    assert convert_temperature(37, "degrees Celsius", "Fahrenheit") == pytest.approx(98.6)


def test_kelvin_by_name():
    assert convert_temperature(300, "kelvin", "celsius") == pytest.approx(26.85)
