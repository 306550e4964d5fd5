import pytest
from tool import is_prime


def test_97_is_prime():
    assert is_prime(97) is True


def test_91_is_not_prime():
    assert is_prime(91) is False


@pytest.mark.parametrize("n", [-7, 0, 1])
def test_below_two(n):
    assert is_prime(n) is False


def test_two_and_four():
    assert (is_prime(2), is_prime(4)) == (True, False)


def test_large_prime():
    assert is_prime(7919) is True
