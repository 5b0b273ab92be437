import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.csvfiles import csv_lines, csv_response, neutralise, unneutralise


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\nx", "'\nx"),
        ("plain", "plain"),
        # Typed with an apostrophe already: one more, so that reading back gives it whole.
        ("'=x", "''=x"),
        ("''-1", "'''-1"),
        ("'plain", "'plain"),
        ("a=b", "a=b"),
        (-3, -3),
        (None, ""),
        (True, "yes"),
    ],
)
def test_formula_cells_are_neutralised(cell, safe):
    assert neutralise(cell) == safe


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "a", " "])))
def test_reading_back_undoes_the_guard_exactly(text):
    assert unneutralise(neutralise(text)) == text


def test_lines_parse_back_with_quotes_and_newlines():
    rows = [["a, b", 'say "hi"', "line\nbreak", 4]]
    text = "".join(csv_lines(["x", "y", "z", "n"], rows))
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed == [["x", "y", "z", "n"], ["a, b", 'say "hi"', "line\nbreak", "4"]]


def test_response_streams_an_attachment():
    response = csv_response("out.csv", ["a"], iter([["=1"]]))
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="out.csv"'
    assert b"".join(response.streaming_content).decode() == "a\r\n'=1\r\n"
