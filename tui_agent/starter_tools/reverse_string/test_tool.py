import pytest
from tool import reverse_string


def test_hello():
    assert reverse_string("hello") == "olleh"


def test_empty():
    assert reverse_string("") == ""


def test_palindrome():
    assert reverse_string("racecar") == "racecar"


def test_keeps_spaces_and_unicode():
    assert reverse_string("ab cé") == "éc ba"


def test_not_a_string():
    with pytest.raises(TypeError):
        reverse_string(123)
