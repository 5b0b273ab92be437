"""The one place coprod writes CSV: streamed, UTF-8, formulas neutralised.

Every list and report exports through here, so a spreadsheet that opens a coprod
file never runs a formula smuggled into a text field. The big exports (the initiatives,
the survey records) too: one writer on every database, fed by `core.streaming`. Measured
against PostgreSQL writing the same file with `COPY ... TO STDOUT`, it takes at most about
twice as long (bench/RESULTS.md, "One writer per export"), so no second writer is kept.
"""

import csv
from collections.abc import Iterable, Iterator, Sequence

from django.db import models
from django.http import StreamingHttpResponse

#: A row of cells: text, numbers, dates, booleans or None, written as `neutralise` says.
Row = Sequence[object]

# A text cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: object) -> object:
    """Make a cell safe to open in a spreadsheet; numbers and empties pass unchanged.

    Only text is guarded: a negative number written as a number stays a number. Text that
    already starts with apostrophes before a trigger (`'=x`, as someone typed it) gets one
    more, so that `unneutralise` gives back exactly what was stored.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo `neutralise` on a cell read back from a CSV file: the guard's `'` taken off."""
    if value.startswith("'") and value[1:].lstrip("'").startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


class _Echo:
    """A file-like object that hands back what is written, for streaming."""

    def write(self, value: str) -> str:
        return value


# The first characters of a text cell `neutralise` may guard, for a test per cell without a
# call: the triggers, and the apostrophe that may stand before one.
_GUARDED_FIRST_CHARACTERS = frozenset((*FORMULA_TRIGGERS, "'"))


def csv_lines(header: Sequence[str], rows: Iterable[Row]) -> Iterator[str]:
    """Yield the CSV text line by line: the header, then each row neutralised."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        # Safe text passes without a call to `neutralise`: exports write millions of cells.
        yield writer.writerow(
            [
                cell
                if type(cell) is str and cell[:1] not in _GUARDED_FIRST_CHARACTERS
                else neutralise(cell)
                for cell in row
            ]
        )


def _chunks(lines: Iterable[str], size: int = 256) -> Iterator[bytes]:
    """Join lines into chunks, so that the server sends kilobytes per write, not a line."""
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield "".join(chunk).encode("utf-8")
            chunk = []
    if chunk:
        yield "".join(chunk).encode("utf-8")


#: The UTF-8 byte order mark: spreadsheet programs read a file that starts with it as UTF-8
#: without asking; programs reading CSV may not expect it, so it is only sent on request.
BOM = "\ufeff".encode()


def _with_bom(chunks: Iterable[bytes], bom: bool) -> Iterator[bytes]:
    if bom:
        yield BOM
    yield from chunks


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Row], *, bom: bool = False
) -> StreamingHttpResponse:
    """A streaming download: rows are produced as the client reads them."""
    response = StreamingHttpResponse(
        _with_bom(_chunks(csv_lines(header, rows)), bom),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def heading(model: type[models.Model], field_name: str) -> str:
    """A column heading from the field's verbose name, as people know it."""
    field = model._meta.get_field(field_name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model.__name__}.{field_name} is a relation's other end, not a column")
    return str(field.verbose_name)
