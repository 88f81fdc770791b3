"""Mending a question's words: misspellings, joined words, and ordinary English left alone."""

from caregraph.spelling import Speller, vocabulary

SPELLER = Speller(vocabulary(["safeguarding enquiries into abuse and neglect", "care home", "hospital discharge",
                              "carers assessment"]), ["my", "the"])


def test_misspellings_are_mended_to_the_nearest_known_word():
    reading = SPELLER.read("safegaurding neglet hosptial")
    assert reading.text == "safeguarding neglect hospital"
    assert reading.corrections == {"safegaurding": "safeguarding", "neglet": "neglect", "hosptial": "hospital"}


def test_joined_words_are_split():
    assert SPELLER.read("carehome").text == "care home"


def test_ordinary_english_is_not_mistaken_for_a_typo():
    reading = SPELLER.read("parking ticket")
    assert reading.text == "parking ticket" and reading.corrections == {}
    assert reading.foreign == ["parking", "ticket"]


def test_known_and_short_words_are_left_alone():
    assert SPELLER.read("my care").corrections == {}
    assert SPELLER.read("abc").text == "abc"
