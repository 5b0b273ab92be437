"""The table reader: CSV and XLSX rows with their own line, problems named where they are."""

import datetime
import io
import zipfile

import pytest
from openpyxl import Workbook

from core import tables
from core.tables import TableError, open_table


def read(data, **options):
    """(header, rows) of a file, or (header, rows, error) when reading stops on a problem."""
    with open_table(io.BytesIO(data) if isinstance(data, bytes) else data, **options) as table:
        rows = []
        try:
            for line, values in table:
                rows.append((line, values))
        except TableError as error:
            return table.header, rows, (error.line, error.message)
        return table.header, rows


def xlsx(*rows, title=None):
    book = Workbook()
    sheet = book.active
    if title:
        sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_csv_rows_carry_their_line_and_the_bom_is_dropped():
    header, rows = read(b"\xef\xbb\xbfa,b\n1,2\n\n3,4\r\n")
    assert header == ["a", "b"]
    assert rows == [(2, ["1", "2"]), (4, ["3", "4"])]


def test_a_quote_never_closed_is_refused_on_its_own_line_and_swallows_nothing():
    data = b'a,b\n1,2\n"3,4\n5,6\n7,"8\n9,10\n'
    _header, rows, (line, message) = read(data)
    assert rows == [(2, ["1", "2"])]
    assert line == 3
    assert "quote" in message


def test_a_quote_never_closed_on_the_last_line_is_refused():
    _header, rows, (line, _message) = read(b'a,b\n1,2\n3,"4\n')
    assert rows == [(2, ["1", "2"])]
    assert line == 3


def test_a_value_after_a_closing_quote_is_refused_on_its_line():
    _header, _rows, (line, message) = read(b'a,b\n1,2\n"3"x,4\n')
    assert line == 3
    assert "CSV" in message


def test_line_breaks_inside_quotes_are_kept_when_allowed_and_lines_stay_true():
    _header, rows = read(b'a,b\n"two\nlines",1\n2,3\n', multiline=True)
    assert rows == [(2, ["two\nlines", "1"]), (4, ["2", "3"])]


def test_a_byte_that_is_not_utf8_is_reported_on_its_own_line(monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_BYTES", 8192)
    lines = [b"code,name\n"] + [f"r{n},name {n}\n".encode() for n in range(2, 3000)]
    lines[2600] = "r2601,Bj\xf6rk\n".encode("latin-1")  # line 2601
    _header, rows, (line, message) = read(b"".join(lines))
    assert line == 2601
    assert "0xF6" in message
    assert rows[-1] == (2600, ["r2600", "name 2600"])
    assert len(rows) == 2599


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_the_bad_byte_line_is_counted_with_every_kind_of_line_break(monkeypatch, newline):
    monkeypatch.setattr(tables, "CHUNK_BYTES", 16)
    data = newline.join([b"a,b", b"1,2", b"3,4", b"5,6", b"7,\xff", b"9,10", b""])
    _header, rows, (line, _message) = read(data)
    assert line == 5
    assert [row[0] for row in rows] == [2, 3, 4]


def test_a_bad_byte_at_the_start_of_the_first_line():
    header_or_error = None
    try:
        read(b"\xffa,b\n1,2\n")
    except TableError as error:
        header_or_error = error.line
    assert header_or_error == 1


def test_a_long_line_across_many_chunks_is_read_whole(monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_BYTES", 4)
    long_value = "é" * 50
    _header, rows = read(f"a,b\n{long_value},1\n".encode())
    assert rows == [(2, [long_value, "1"])]


def test_text_streams_and_paths_are_sources_too(tmp_path):
    assert read(io.StringIO("\ufeffa\nx\n")) == (["a"], [(2, ["x"])])
    path = tmp_path / "t.csv"
    path.write_bytes(b"a\ny\n")
    assert read(str(path)) == (["a"], [(2, ["y"])])


def test_an_empty_file_needs_a_header():
    for data in (b"", b"\n\n", xlsx()):
        with pytest.raises(TableError) as caught:
            read(data)
        assert caught.value.line == 1


def test_xlsx_cells_come_back_as_text_with_their_address():
    data = xlsx(
        [None],
        ["respondent", "sector", "answer", "when"],
        ["r1", 3, 1.0, datetime.datetime(2024, 5, 1)],
        [None, None, None, None],
        ["r2", "07", True],
        ["r3", 4.5, "no", None, None, None],
    )
    with open_table(io.BytesIO(data)) as table:
        assert table.kind == "xlsx"
        assert table.header == ["respondent", "sector", "answer", "when"]
        assert table.header_line == 2
        rows = list(table)
        assert rows == [
            (3, ["r1", "3", "1", "2024-05-01"]),
            (5, ["r2", "07", "true", ""]),
            (6, ["r3", "4.5", "no", ""]),
        ]
        assert table.address(17, 3) == "D17"
        assert table.where(6, 2) == "C6"


def test_xlsx_text_comes_back_as_written_with_its_control_characters():
    """The sheet stores a CR as `_x000D_` and a typed `_x0041_` as `_x005F_x0041_`."""
    from core.spreadsheets import write_xlsx

    buffer = io.BytesIO()
    write_xlsx(buffer, ["text"], [["A\r\nB"], ["_x0041_ stays"], ["tab\there"]])

    _header, rows = read(buffer.getvalue())

    assert [values for _line, values in rows] == [["A\r\nB"], ["_x0041_ stays"], ["tab\there"]]


def test_csv_has_no_cell_addresses_but_names_the_line():
    with open_table(io.BytesIO(b"a\n1\n")) as table:
        assert table.address(2, 0) is None
        assert table.where(2, 0) == "line 2"


def test_xlsx_is_recognised_by_content_and_a_named_sheet_can_be_read():
    data = xlsx(["x"], ["1"], title="Answers")
    _header, rows = read(data, sheet="Answers")
    assert rows == [(2, ["1"])]
    with pytest.raises(TableError, match="no sheet"):
        read(data, sheet="Other")


def test_xlsx_is_read_in_streaming_mode():
    with open_table(io.BytesIO(xlsx(["a"], ["1"]))) as table:
        assert table.book.read_only


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(TableError, match="XLSX"):
        read(buffer.getvalue())
