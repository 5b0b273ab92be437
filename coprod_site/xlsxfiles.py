"""XLSX downloads, the twin of `csvfiles.csv_response`: one sheet, a header row, then rows.

Written by openpyxl in write-only mode (rows go to disk as they come, never all in memory)
to a temporary file that the response streams. Text cells are neutralised as in CSV files:
openpyxl would store a text starting with `=` as a formula.
"""

import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import FileResponse

from .csvfiles import neutralise

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value):
    if isinstance(value, Decimal):
        return float(value)  # a number in the sheet, not text
    return neutralise(value)


def xlsx_response(filename: str, header: Sequence[str], rows: Iterable[Sequence], *, title=""):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=(title or "data")[:31])
    sheet.append([str(name) for name in header])
    for row in rows:
        sheet.append([_cell(value) for value in row])
    out = tempfile.TemporaryFile()
    book.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=CONTENT_TYPE)
