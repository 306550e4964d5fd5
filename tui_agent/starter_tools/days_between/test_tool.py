import pytest
from tool import days_between


def test_leap_year_february():
    assert days_between("2024-01-01", "2024-03-01") == 60


def test_same_day():
    assert days_between("2023-05-05", "2023-05-05") == 0


def test_backwards_is_negative():
    assert days_between("2023-01-10", "2023-01-01") == -9


def test_whole_year():
    assert days_between("2023-01-01", "2024-01-01") == 365


def test_bad_date():
    with pytest.raises(ValueError):
        days_between("2023-02-30", "2023-03-01")
