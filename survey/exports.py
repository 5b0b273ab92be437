"""Export survey records in the import format, so that export → import round-trips."""

from coprod_site.csvfiles import csv_lines, csv_response

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


def export_rows(*, wave=None):
    """The records as tuples in `COLUMNS` order, streamed from the database.

    wave: a `Wave` (or its id) to export only that wave; None exports every wave.
    Answers come out as booleans; the CSV writer prints them as yes/no.
    """
    records = Response.objects.all()
    if wave is not None:
        records = records.filter(respondent__wave=wave)
    return (
        records.order_by(
            "respondent__wave__code",
            "respondent__country_id",
            "respondent__code",
            "sector_id",
            "item__question__order",
            "item__question__code",
            "item__order",
            "item__code",
        )
        .values_list(*_FIELDS)
        .iterator(chunk_size=5000)
    )


def export_lines(*, wave=None):
    """The CSV text, header first, line by line."""
    return csv_lines(COLUMNS, export_rows(wave=wave))


def export_response(*, wave=None):
    """A streaming download of the records (one wave, or all)."""
    name = f"survey-{wave.code}.csv" if wave is not None else "survey.csv"
    return csv_response(name, COLUMNS, export_rows(wave=wave))
