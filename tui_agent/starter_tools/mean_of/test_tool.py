import pytest
from tool import mean_of


def test_simple():
    assert mean_of([1, 2, 3, 4]) == 2.5


def test_single():
    assert mean_of([7]) == 7.0


def test_negative_and_float():
    assert mean_of([-1.5, 1.5, 3]) == pytest.approx(1.0)


def test_empty():
    with pytest.raises(ValueError):
        mean_of([])
