"""The one place coprod writes XLSX, beside `csvfiles`: typed cells, never a formula.

Every list and report that offers CSV offers the same table as XLSX. The cells are typed,
so that a spreadsheet opens the file without guessing: text (codes such as `07`, titles
such as `1/2` or `=1+1`) is a text cell, numbers are numbers, dates and timestamps are
dates. A text cell is never a formula, so no guard such as the CSV's leading `'` is needed:
the writer is told not to turn strings into formulas, numbers or links.

XlsxWriter writes in `constant_memory` mode: each row goes to a temporary file as it is
written, so memory stays flat whatever the number of rows. The workbook is assembled on
disk and streamed from there.
"""

import datetime
import decimal
import os
import tempfile
from collections.abc import Iterable, Sequence
from typing import IO

import xlsxwriter
from django.http import FileResponse

from .csvfiles import Row

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: The writer's options: never a formula, a number or a link made out of a string.
WORKBOOK_OPTIONS = {
    "constant_memory": True,
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "remove_timezone": True,
}


def utc_naive(moment: datetime.datetime) -> datetime.datetime:
    """A moment in UTC without its zone, as a sheet holds it (a naive one is taken as is)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return moment


def write_xlsx(
    file: str | os.PathLike[str] | IO[bytes],
    header: Sequence[str],
    rows: Iterable[Row],
    *,
    sheet: str = "data",
) -> None:
    """Write one sheet: the header row (bold, frozen), then each row with typed cells.

    `file` is a path or a binary file object. None is an empty cell; bool a boolean;
    int, float and Decimal numbers; date a date; datetime a date and time in UTC; anything
    else text.
    """
    workbook = xlsxwriter.Workbook(file, WORKBOOK_OPTIONS)
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    moment = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    worksheet.freeze_panes(1, 0)
    for column, name in enumerate(header):
        worksheet.write_string(0, column, str(name), bold)
    write_string, write_number = worksheet.write_string, worksheet.write_number
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            kind = type(value)
            if kind is str:
                if value:
                    write_string(number, column, value)
            elif value is None:
                continue
            elif kind is bool:
                worksheet.write_boolean(number, column, value)
            elif kind is int or kind is float:
                write_number(number, column, value)
            # `type(value)` again where the cell's own type must be known (to the type checker).
            elif type(value) is decimal.Decimal:
                write_number(number, column, float(value))
            elif type(value) is datetime.datetime:
                worksheet.write_datetime(number, column, utc_naive(value), moment)
            elif kind is datetime.date:
                worksheet.write_datetime(number, column, value, day)
            else:
                write_string(number, column, str(value))
    workbook.close()


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Row], *, sheet: str = "data"
) -> FileResponse:
    """A download of the rows as XLSX, written to a temporary file and streamed from it."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 -- closed by the response
    write_xlsx(file, header, rows, sheet=sheet)
    file.seek(0)
    return FileResponse(file, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE)
