import pytest
from tool import percentage_change


def test_increase():
    assert percentage_change(80, 100) == 25.0


def test_decrease():
    assert percentage_change(200, 150) == -25.0


def test_no_change():
    assert percentage_change(42, 42) == 0.0


def test_zero_old_value_is_an_error():
    with pytest.raises(ValueError):
        percentage_change(0, 10)


def test_fractional():
    assert percentage_change(3, 4) == pytest.approx(33.3333333)
