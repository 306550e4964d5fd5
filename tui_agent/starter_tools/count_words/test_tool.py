from tool import count_words


def test_four_words():
    assert count_words("the quick brown fox") == 4


def test_empty():
    assert count_words("") == 0


def test_extra_whitespace():
    assert count_words("  one   two\nthree\t") == 3


def test_punctuation_stays_with_words():
    assert count_words("Hello, world!") == 2
