import pytest
from tool import percentage_of


def test_fifteen_percent_of_300():
    assert percentage_of(300, 15) == 45.0


def test_zero_percent():
    assert percentage_of(80, 0) == 0.0


def test_over_one_hundred_percent():
    assert percentage_of(50, 200) == 100.0


def test_fractional_percent():
    assert percentage_of(200, 12.5) == pytest.approx(25.0)


def test_negative_value():
    assert percentage_of(-40, 25) == -10.0
