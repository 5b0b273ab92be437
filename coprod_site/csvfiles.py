"""The one place coprod writes CSV: streamed, UTF-8, formulas neutralised.

Every list and report exports through here, so a spreadsheet that opens a coprod
file never runs a formula smuggled into a text field.
"""

import csv
from collections.abc import Iterable, Sequence

from django.http import StreamingHttpResponse

# A text cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value):
    """Make a cell safe to open in a spreadsheet; numbers and empties pass unchanged.

    Only text is guarded: a negative number written as a number stays a number.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class _Echo:
    """A file-like object that hands back what is written, for streaming."""

    def write(self, value):
        return value


# The first characters that make a text cell a formula, for a test per cell without a call.
_TRIGGER_CHARACTERS = frozenset(FORMULA_TRIGGERS)


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]):
    """Yield the CSV text line by line: the header, then each row neutralised."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        # Safe text passes without a call to `neutralise`: exports write millions of cells.
        yield writer.writerow(
            [
                cell
                if cell.__class__ is str and cell[:1] not in _TRIGGER_CHARACTERS
                else neutralise(cell)
                for cell in row
            ]
        )


def _chunks(lines, size=256):
    """Join lines into chunks, so that the server sends kilobytes per write, not a line."""
    chunk = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield "".join(chunk).encode("utf-8")
            chunk = []
    if chunk:
        yield "".join(chunk).encode("utf-8")


def write_csv(stream, header: Sequence[str], rows: Iterable[Sequence]):
    """Write to an open text stream (a management command's stdout, a file)."""
    for line in csv_lines(header, rows):
        stream.write(line)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]):
    """A streaming download: rows are produced as the client reads them."""
    response = StreamingHttpResponse(
        _chunks(csv_lines(header, rows)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def heading(model, field_name):
    """A column heading from the field's verbose name, as people know it."""
    return str(model._meta.get_field(field_name).verbose_name)
