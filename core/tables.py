"""Read a table, CSV or XLSX, one row at a time, each row knowing where it came from.

    from core.tables import TableError, open_table

    with open_table(upload) as table:          # a path, an upload, a binary or text file
        table.header                           # the first non-blank row, names stripped
        try:
            for line, values in table:         # values: list of str, "" for an empty cell
                ...
                table.address(line, index)     # "D17" in an XLSX sheet, None in a CSV file
                table.where(line, index)       # "D17" or "line 17": for messages
        except TableError as error:            # the file cannot be read on from here
            error.line, error.message

`line` is the line of the file (CSV; the first line of a record) or the row of the
sheet (XLSX), counted from 1, so that a message can name it. Rows whose cells are all
empty are skipped; the line numbers of the others stay true.

CSV: UTF-8, a byte order mark tolerated, read in chunks of `CHUNK_BYTES` and never whole.
A byte that is not UTF-8 raises `TableError` naming its own line, after the rows before
it. A quoted value must end on the line where it starts (`multiline=True` allows line
breaks inside quotes, as long texts need); a quote never closed raises `TableError`
naming the line where it opened, instead of running on and swallowing the rows after.

XLSX: the first sheet (or `sheet=`), read by openpyxl in read-only mode, which streams
the sheet's XML. Cells come back as text: whole numbers without `.0`, booleans as
`true`/`false`, dates in ISO form, formulas as their last computed value, text with the
sheet's escapes of control characters (`_x000D_`) undone. Rows are padded with "" to the
header's width.

The kind of file is recognised from its first bytes (an XLSX file is a ZIP archive), not
from its name.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from typing import IO, Self

from django.core.files import File
from django.utils.translation import gettext as _

CHUNK_BYTES = 1 << 20
#: The longest value a CSV cell may hold: far above any field's own limit, so that a long
#: cell gets that field's message; past it, the reader stops.
CELL_CHARACTERS = 1 << 20
_ZIP_MAGIC = b"PK\x03\x04"
_BOM = "\ufeff"

#: What `open_table` reads: a path, a Django file (an upload), a binary file, a text file.
TableSource = str | os.PathLike[str] | IO[bytes] | io.TextIOBase

#: A row of a table: its line in the file, and its cells as text.
TableRow = tuple[int, list[str]]


class TableError(Exception):
    """The file cannot be read on from `line` (None: not at all)."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.line = line


def open_table(
    source: TableSource,
    *,
    multiline: bool = False,
    sheet: str | None = None,
    prefer_sheet: str | None = None,
) -> Table:
    """A `Table` over `source`: a path, a Django upload, or a binary or text file object.

    `sheet`: the XLSX sheet to read (an error if there is none by that name);
    `prefer_sheet`: the sheet to read if there is one by that name, else the first.
    Raises `TableError` when the file is not a readable table at all (not an XLSX
    archive, no sheet, no header row). Close the table after use, or use it in `with`.
    """
    raw: IO[bytes] | io.TextIOBase
    if isinstance(source, str | os.PathLike):
        raw = open(source, "rb")  # noqa: SIM115 -- closed by Table.close
        owned = True
    else:
        # Django's UploadedFile wraps the real file object; both hand back bytes.
        raw = source.file if isinstance(source, File) and source.file is not None else source
        owned = False
        if getattr(raw, "seekable", lambda: False)():
            raw.seek(0)
    table: Table
    try:
        if isinstance(raw, io.TextIOBase):
            table = _CsvTable(_text_lines(raw), multiline=multiline)
        elif _peek(raw, len(_ZIP_MAGIC)) == _ZIP_MAGIC:
            table = _XlsxTable(raw, sheet=sheet, prefer_sheet=prefer_sheet)
        elif _named_xlsx(source):
            raise TableError(_("This is not a readable XLSX workbook: it is not a ZIP archive."))
        else:
            table = _CsvTable(_decoded_lines(raw), multiline=multiline)
        table.start()
    except BaseException:
        if owned:
            raw.close()
        raise
    if owned:
        table.closers.append(raw.close)
    return table


def _named_xlsx(source: TableSource) -> bool:
    name = source if isinstance(source, str | os.PathLike) else getattr(source, "name", "")
    return str(name or "").lower().endswith(".xlsx")


def _peek(raw: IO[bytes], size: int) -> bytes:
    if hasattr(raw, "peek"):
        return raw.peek(size)[:size]
    if getattr(raw, "seekable", lambda: False)():
        start = raw.tell()
        head = raw.read(size)
        raw.seek(start)
        return head
    return b""


class Table:
    """Rows of a file: iterate for `(line, values)`; see the module docstring."""

    kind = ""

    def __init__(self) -> None:
        self.header: list[str] = []
        self.header_line = 0
        self.closers: list[Callable[[], object]] = []
        self._rows: Iterator[TableRow] = iter(())

    def __iter__(self) -> Iterator[TableRow]:
        return self._rows

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        while self.closers:
            self.closers.pop()()

    def start(self) -> None:
        """Read up to the header row."""
        for line, values in self._rows:
            self.header = [str(name).strip() for name in values]
            if self.header:
                self.header[0] = self.header[0].lstrip(_BOM).strip()
            self.header_line = line
            return
        raise TableError(_("The file is empty: a header row is required."), line=1)

    def address(self, line: int, index: int) -> str | None:
        """The cell's address (`D17`) where the file has one; None in a CSV file."""
        return None

    def where(self, line: int, index: int | None = None) -> str:
        """Where a value is, for a message: `D17`, or `line 17`."""
        address = self.address(line, index) if index is not None else None
        return address or _("line %(line)d") % {"line": line}


# --- CSV -----------------------------------------------------------------------------


def _text_lines(stream: Iterable[str]) -> Iterator[str]:
    first = True
    for text in stream:
        if first:
            text = text.lstrip(_BOM)
            first = False
        yield text


def _decoded_lines(raw: IO[bytes]) -> Iterator[str]:
    """Lines of a binary stream decoded as UTF-8 (BOM dropped), read chunk by chunk.

    A chunk ends at a line break, so that a character never straddles two chunks and the
    bad byte's line can be counted: the lines before it are yielded first, then a
    `TableError` names the line the byte is on.
    """
    read = raw.read
    lines_before = 0
    pending = b""
    first = True
    while True:
        data = read(CHUNK_BYTES)
        chunk = pending + data if pending else data
        if data:
            cut = _last_line_break(chunk)
            if cut < 0:
                pending = chunk  # one long line: read on until it ends
                continue
            chunk, pending = chunk[: cut + 1], chunk[cut + 1 :]
        else:
            pending = b""
            if not chunk:
                return
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError as error:
            valid = chunk[: error.start].decode("utf-8")
            if first:
                valid = valid.lstrip(_BOM)
            lines = io.StringIO(valid, newline="").readlines()
            complete = lines if not lines or lines[-1].endswith(("\n", "\r")) else lines[:-1]
            yield from complete
            bad_line = lines_before + len(complete) + 1
            raise TableError(
                _(
                    "The file is not UTF-8 text: byte 0x%(byte)02X on this line cannot be "
                    "read. Save the file as “CSV UTF-8”."
                )
                % {"byte": chunk[error.start]},
                line=bad_line,
            ) from None
        if first:
            text = text.lstrip(_BOM)
            first = False
        lines = io.StringIO(text, newline="").readlines()
        lines_before += len(lines)
        yield from lines
        if not data:
            return


def _last_line_break(chunk: bytes) -> int:
    """Where a chunk may end: its last LF, or a CR that is not the chunk's last byte (a
    CR at the very end may be the first half of a CRLF)."""
    cut = chunk.rfind(b"\n")
    if cut >= 0:
        return cut
    cut = chunk.rfind(b"\r", 0, len(chunk) - 1)
    return cut


class _CsvTable(Table):
    kind = "csv"

    def __init__(self, lines: Iterable[str], *, multiline: bool) -> None:
        super().__init__()
        if csv.field_size_limit() < CELL_CHARACTERS:
            csv.field_size_limit(CELL_CHARACTERS)
        self.multiline = multiline
        self._reader = csv.reader(lines, strict=True)
        self._rows = self._read()

    def _read(self) -> Iterator[TableRow]:
        reader = self._reader
        multiline = self.multiline
        line = 0
        try:
            for values in reader:
                start = line + 1
                line = reader.line_num
                if line != start and not multiline:
                    raise TableError(_unclosed_quote(), line=start)
                if values and any(values):
                    yield start, values
        except csv.Error as error:
            ran_on = reader.line_num > line + 1 and not multiline
            if "field larger" in str(error):
                raise TableError(
                    _(
                        "A value starting on this line runs on for more than %(limit)d "
                        "characters: a quote opened on it is never closed, or the value is "
                        "far too long for any field."
                    )
                    % {"limit": CELL_CHARACTERS},
                    line=line + 1,
                ) from None
            if ran_on or "end of data" in str(error):
                raise TableError(_unclosed_quote(), line=line + 1) from None
            raise TableError(
                _("Not valid CSV: %(error)s") % {"error": error}, line=line + 1
            ) from None


def _unclosed_quote() -> str:
    return _(
        "A quote opened on this line is never closed on it: close it, or double a quote "
        'that is part of the value ("").'
    )


# --- XLSX ----------------------------------------------------------------------------


def _unescape(value: str) -> str:
    from openpyxl.utils.escape import unescape

    return unescape(value)


class _XlsxTable(Table):
    kind = "xlsx"

    def __init__(
        self, raw: IO[bytes], *, sheet: str | None = None, prefer_sheet: str | None = None
    ) -> None:
        super().__init__()
        from openpyxl import load_workbook
        from openpyxl.utils.exceptions import InvalidFileException

        try:
            self.book = load_workbook(raw, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
            raise TableError(
                _("This is not a readable XLSX workbook (%(error)s).") % {"error": exc}, line=None
            ) from None
        self.closers.append(self.book.close)
        names = self.book.sheetnames
        if not names:
            raise TableError(_("The workbook has no sheet."))
        if sheet is not None and sheet not in names:
            raise TableError(_("The workbook has no sheet named “%(name)s”.") % {"name": sheet})
        if sheet is None:
            sheet = prefer_sheet if prefer_sheet in names else names[0]
        self.sheet = self.book[sheet]
        # Some tools write a wrong size (A1:A1) at the top of the sheet; read every cell.
        with suppress(AttributeError):
            self.sheet.reset_dimensions()
        self._rows = self._read()

    def _read(self) -> Iterator[TableRow]:
        width: int | None = None
        for line, cells in enumerate(self.sheet.iter_rows(values_only=True), start=1):
            values = [_text(value) for value in cells]
            if not any(values):
                continue
            if width is None:
                width = len(values)
                while width and not values[width - 1]:
                    width -= 1
                values = values[:width]
            elif len(values) < width:
                values.extend([""] * (width - len(values)))
            elif len(values) > width:
                last = len(values)
                while last > width and not values[last - 1]:
                    last -= 1
                del values[last:]
            yield line, values

    def address(self, line: int, index: int) -> str:
        from openpyxl.utils import get_column_letter

        return f"{get_column_letter(index + 1)}{line}"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        # A control character such as the CR of a Windows line break is stored in the
        # sheet as `_x000D_` (and a literal `_x` as `_x005F_x`); read-only mode leaves
        # that to the reader.
        return _unescape(value) if "_x" in value else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)
