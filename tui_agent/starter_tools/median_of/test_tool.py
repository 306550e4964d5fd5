import pytest
from tool import median_of


def test_odd_count():
    assert median_of([3, 1, 2]) == 2.0


def test_even_count():
    assert median_of([4, 1, 3, 2]) == 2.5


def test_single():
    assert median_of([9]) == 9.0


def test_empty():
    with pytest.raises(ValueError):
        median_of([])
