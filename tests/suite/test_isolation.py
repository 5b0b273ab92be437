"""What one test changes in the process does not reach the next test the worker runs."""

from django.conf import settings
from django.utils import translation


def test_a_test_may_switch_to_french_and_leave_it_so():
    translation.activate("fr")
    assert translation.get_language() == "fr"


def test_the_next_test_starts_in_the_default_language():
    assert translation.get_language() == settings.LANGUAGE_CODE
