import pytest
from tool import add_days


def test_leap_day():
    assert add_days("2024-02-28", 1) == "2024-02-29"


def test_year_end():
    assert add_days("2023-12-31", 1) == "2024-01-01"


def test_backwards():
    assert add_days("2024-03-01", -1) == "2024-02-29"


def test_zero():
    assert add_days("2020-06-15", 0) == "2020-06-15"


def test_bad_date():
    with pytest.raises(ValueError):
        add_days("not a date", 3)
