"""Export survey records in the import format, so that export → import round-trips.

On PostgreSQL the server writes the file (`copy_chunks`); elsewhere Python does
(`csv_lines`). Both read the same query and write the same bytes.
"""

from django.db import connection
from django.db.models import F

from core.csvfiles import (
    copy_chunks,
    copy_response,
    csv_lines,
    csv_response,
    spelled,
    sql_text,
    sql_yes_no,
)
from core.spreadsheets import xlsx_response

from .imports import COLUMNS
from .models import Response

_FIELDS = (
    "respondent__wave__code",
    "respondent__country_id",
    "respondent__code",
    "sector_id",
    "item__question__code",
    "item__code",
    "affirmative",
)


def _records(wave):
    records = Response.objects.all()
    if wave is not None:
        records = records.filter(respondent__wave=wave)
    return records.order_by(
        "respondent__wave__code",
        "respondent__country_id",
        "respondent__code",
        "sector_id",
        "item__question__order",
        "item__question__code",
        "item__order",
        "item__code",
    )


def export_rows(*, wave=None):
    """The records as tuples in `COLUMNS` order, streamed from the database.

    wave: a `Wave` (or its id) to export only that wave; None exports every wave.
    Answers come out as booleans; the CSV writer prints them as yes/no.
    """
    return _records(wave).values_list(*_FIELDS).iterator(chunk_size=5000)


def export_sql(*, wave=None):
    """The same records as (sql, params) of a SELECT whose cells are spelled as CSV."""
    columns = {f"c{number}": F(field) for number, field in enumerate(_FIELDS)}
    sql, params = _records(wave).values(**columns).query.sql_with_params()
    cells = [sql_text] * (len(_FIELDS) - 1) + [sql_yes_no]
    return spelled(sql, cells), params


def _server_writes():
    return connection.vendor == "postgresql"


def export_lines(*, wave=None):
    """The CSV text, header first, in pieces that end where a line ends."""
    if _server_writes():
        return (chunk.decode("utf-8") for chunk in copy_chunks(COLUMNS, *export_sql(wave=wave)))
    return csv_lines(COLUMNS, export_rows(wave=wave))


def export_response(*, wave=None, output="csv"):
    """A download of the records (one wave, or all): CSV streamed, or XLSX (`output`)."""
    stem = f"survey-{wave.code}" if wave is not None else "survey"
    if output == "xlsx":
        return xlsx_response(f"{stem}.xlsx", COLUMNS, export_rows(wave=wave), sheet="survey")
    name = f"{stem}.csv"
    if _server_writes():
        return copy_response(name, COLUMNS, *export_sql(wave=wave))
    return csv_response(name, COLUMNS, export_rows(wave=wave))
