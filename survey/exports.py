"""Export survey records in the import format, so that export → import round-trips.

One writer on every database: the records are read with one `values_list` query, streamed
(`core.streaming`), and written by `core.csvfiles` (or `core.spreadsheets` for XLSX).
"""

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponseBase

from core.csvfiles import csv_lines, csv_response
from core.spreadsheets import xlsx_response
from core.streaming import stream_rows

from .imports import COLUMNS
from .models import Response, Wave

_FIELDS = (
    "respondent__wave__code",
    "respondent__country_id",
    "respondent__code",
    "sector_id",
    "item__question__code",
    "item__code",
    "affirmative",
)


def _records(wave: Wave | int | None) -> "QuerySet[Response]":
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


def export_rows(*, wave: Wave | int | None = None) -> Iterator[tuple[Any, ...]]:
    """The records as tuples in `COLUMNS` order, streamed from the database.

    wave: a `Wave` (or its id) to export only that wave; None exports every wave.
    Answers come out as booleans; the CSV writer prints them as yes/no.
    """
    return stream_rows(_records(wave).values_list(*_FIELDS))


def export_lines(*, wave: Wave | int | None = None) -> Iterator[str]:
    """The CSV text, header first, line by line."""
    return csv_lines(COLUMNS, export_rows(wave=wave))


def export_response(*, wave: Wave | None = None, output: str = "csv") -> HttpResponseBase:
    """A download of the records (one wave, or all): CSV streamed, or XLSX (`output`)."""
    stem = f"survey-{wave.code}" if wave is not None else "survey"
    if output == "xlsx":
        return xlsx_response(f"{stem}.xlsx", COLUMNS, export_rows(wave=wave), sheet="survey")
    return csv_response(f"{stem}.csv", COLUMNS, export_rows(wave=wave))
