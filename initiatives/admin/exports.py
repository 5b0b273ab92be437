"""The initiative admin's "Export selected" as CSV or XLSX, written by the shared modules."""

from collections import defaultdict

from django.utils.translation import gettext

from core.csvfiles import csv_response, heading
from core.spreadsheets import xlsx_response

from ..models import Initiative, Level, Participation, PartnerType, Phase, ReviewStatus, Stage
from .base import in_choice_order
from .forms import TAG_FIELDS


def _field(name, key=None):
    return heading(Initiative, name), lambda row, lists: row[key or name]


def _code(name, key):
    title = gettext("%(field)s code") % {"field": heading(Initiative, name)}
    return title, lambda row, lists: row[key]


def _label(name, choices):
    return heading(Initiative, name), lambda row, lists: str(choices(row[name]).label)


def _joined(title, key):
    return title, lambda row, lists: "|".join(lists[key])


def _columns():
    """(heading, value of a row) in file order: codes beside labels, lists as `a|b` cells."""
    return [
        _field("reference"),
        _field("title"),
        _code("country", "country_id"),
        _field("country", "country__name"),
        _code("sector", "sector_id"),
        _field("sector", "sector__label"),
        _code("level", "level"),
        _label("level", Level),
        _code("stage", "stage"),
        _label("stage", Stage),
        _code("review_status", "review_status"),
        _label("review_status", ReviewStatus),
        _field("organisation", "organisation__name"),
        _field("case_officer", "case_officer__username"),
        _field("lead_public_body"),
        _field("start_date"),
        _field("end_date"),
        _field("participants"),
        _joined(gettext("who does what"), "participations"),
        *(_joined(heading(Initiative, name), name) for name in TAG_FIELDS),
        _field("created_at"),
        _field("updated_at"),
        _field("archived_at"),
    ]


ROW_VALUES = (
    "pk",
    "reference",
    "title",
    "country_id",
    "country__name",
    "sector_id",
    "sector__label",
    "level",
    "stage",
    "review_status",
    "organisation__name",
    "case_officer__username",
    "lead_public_body",
    "start_date",
    "end_date",
    "participants",
    "created_at",
    "updated_at",
    "archived_at",
)


def _lists(queryset):
    """Each selected initiative's cells (`design:citizen`) and tags, one query per list."""
    lists = defaultdict(lambda: defaultdict(list))
    selected = queryset.values("pk")
    cells = (
        Participation.objects.filter(initiative__in=selected)
        .order_by(in_choice_order("phase", Phase), in_choice_order("partner_type", PartnerType))
        .values_list("initiative_id", "phase", "partner_type")
    )
    for initiative_id, phase, partner_type in cells:
        lists[initiative_id]["participations"].append(f"{phase}:{partner_type}")
    for name in TAG_FIELDS:
        tagged = (
            getattr(Initiative, name)
            .through.objects.filter(initiative__in=selected)
            .order_by("item__order", "item__code")
            .values_list("initiative_id", "item__code")
        )
        for initiative_id, code in tagged:
            lists[initiative_id][name].append(code)
    return lists


def _table(queryset):
    """(header, rows) of the initiatives in `queryset`, one row each, by reference."""
    columns = _columns()
    lists = _lists(queryset)
    rows = (
        [value(row, lists[row["pk"]]) for _title, value in columns]
        for row in queryset.order_by("reference").values(*ROW_VALUES).iterator()
    )
    return [title for title, _value in columns], rows


def initiatives_csv(queryset, filename="initiatives.csv"):
    """A streamed CSV of the initiatives in `queryset`, one row each, by reference."""
    return csv_response(filename, *_table(queryset))


def initiatives_xlsx(queryset, filename="initiatives.xlsx"):
    """The same table as XLSX: codes as text, dates and timestamps as dates."""
    return xlsx_response(filename, *_table(queryset), sheet="initiatives")
