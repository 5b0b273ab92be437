"""The one place coprod writes CSV: streamed, UTF-8, formulas neutralised.

Every list and report exports through here, so a spreadsheet that opens a coprod
file never runs a formula smuggled into a text field.

Two writers make the same bytes. `csv_lines` formats rows in Python, on any database.
On PostgreSQL the big exports let the server format them: `copy_chunks` streams
`COPY (SELECT ...) TO STDOUT WITH CSV`, whose SELECT spells every cell as `csv_lines`
prints it (`sql_text`, `sql_yes_no`), so millions of cells never pass through Python.
"""

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, cast

from django.db import connection, models
from django.http import StreamingHttpResponse

if TYPE_CHECKING:
    from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations

#: A row of cells: text, numbers, dates, booleans or None, written as `neutralise` says.
Row = Sequence[object]

# A text cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: object) -> object:
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

    def write(self, value: str) -> str:
        return value


# The first characters that make a text cell a formula, for a test per cell without a call.
_TRIGGER_CHARACTERS = frozenset(FORMULA_TRIGGERS)


def csv_lines(header: Sequence[str], rows: Iterable[Row]) -> Iterator[str]:
    """Yield the CSV text line by line: the header, then each row neutralised."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(header)
    for row in rows:
        # Safe text passes without a call to `neutralise`: exports write millions of cells.
        yield writer.writerow(
            [
                cell
                if type(cell) is str and cell[:1] not in _TRIGGER_CHARACTERS
                else neutralise(cell)
                for cell in row
            ]
        )


def _header_line(header: Sequence[str]) -> str:
    return next(csv_lines(header, ()))


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


# The triggers as code points: `ascii()` gives the code point of a text's first character
# (0 for an empty text, NULL for NULL).
_TRIGGER_CODES = ", ".join(str(ord(character)) for character in FORMULA_TRIGGERS)

# What COPY prints for NULL. No cell is NULL (`sql_text` and `sql_yes_no` spell NULL as an
# empty cell, as `neutralise` does); a NULL string that no cell can equal stops PostgreSQL
# from quoting empty cells, which `csv` leaves bare. A lone "=" is a formula: as a text
# cell it reads "'=".
_COPY_NULL = "="


def sql_text(expression: str) -> str:
    """SQL for a text cell as `csv_lines` writes it: NULL as empty, a formula start guarded.

    The expression appears three times: give a column, not a subquery.
    """
    return (
        f"CASE WHEN ascii({expression}) IN ({_TRIGGER_CODES}) THEN '''' || {expression} "
        f"ELSE coalesce({expression}, '') END"
    )


def sql_yes_no(expression: str) -> str:
    """SQL for a boolean cell as `csv_lines` writes it: yes, no, or empty for NULL."""
    return f"CASE WHEN {expression} THEN 'yes' WHEN NOT {expression} THEN 'no' ELSE '' END"


def spelled(sql: str, cells: Sequence[Callable[[str], str] | None]) -> str:
    """A SELECT of the rows of `sql` spelled as CSV cells, in the order `sql` gives them.

    `sql` names its columns c0, c1, ...; `cells` holds, for each, `sql_text`, `sql_yes_no`,
    another spelling, or None for a number (NULL as empty). The spelling is applied to the
    sorted rows, which PostgreSQL reads from the subquery in its order; inside the sorted
    query it may cost the spelling into a slower plan (for the survey records, an
    incremental sort twice as slow as the full one).
    """
    columns = ", ".join(
        f"coalesce(t.c{number}::text, '')" if spell is None else spell(f"t.c{number}")
        for number, spell in enumerate(cells)
    )
    return f"SELECT {columns} FROM ({sql}) t"  # noqa: S608 (no value is interpolated)


def copy_chunks(
    header: Sequence[str], sql: str, params: Sequence[object] = (), size: int = 64 * 1024
) -> Iterator[bytes]:
    """The CSV file of `sql`'s rows, written by PostgreSQL, in chunks of bytes.

    `sql` is a SELECT whose columns are spelled with `sql_text` or `sql_yes_no`, or are
    numbers (see `spelled`). The rows stream from the server as it produces them, on
    Django's connection, so the query sees what the request (or the test) sees. The bytes
    are those `csv_lines` writes for the same values.
    """
    if len(header) < 2:
        # PostgreSQL quotes a lone `\.` (its end-of-data mark) and `csv` does not; every
        # export has many columns.
        raise ValueError("copy_chunks writes files of two columns or more")
    # Only ever called on PostgreSQL, whose operations compose SQL with its parameters.
    statement = cast("PostgresOperations", connection.ops).compose_sql(
        f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, NULL '{_COPY_NULL}')", params
    )
    parts = [_header_line(header).removesuffix("\r\n").encode("utf-8")]
    filled = 0
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        # PostgreSQL sends each row as one message that ends in LF; the file's lines end in
        # CRLF. Line breaks inside quoted cells stay as they are, as in `csv_lines`.
        for row in copy:
            parts.append(row[:-1])
            filled += len(row)
            if filled >= size:
                parts.append(b"")
                yield b"\r\n".join(parts)
                parts, filled = [], 0
    if parts:
        parts.append(b"")
        yield b"\r\n".join(parts)


def copy_response(
    filename: str,
    header: Sequence[str],
    sql: str,
    params: Sequence[object] = (),
    *,
    bom: bool = False,
) -> StreamingHttpResponse:
    """A streaming download of `copy_chunks`."""
    response = StreamingHttpResponse(
        _with_bom(copy_chunks(header, sql, params), bom), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
