"""The initiatives CSV export and its codebook.

One row per initiative. Coded fields come as a code column and a label column; the
who-does-what matrix and the tags are multi-value cells (`design:citizen|deliver:cso`,
`involvement|quality`).

One writer, on every database: `rows` reads the initiatives with one `values_list` query
in the list's order and `core.csvfiles` writes them. On PostgreSQL the multi-value cells
come in the same query, each aggregated by a subquery (`ArrayAgg`), and the rows stream
from the server (`core.streaming`). SQLite has no array aggregate: there the cells are
fetched with one query per relation per batch of rows. Either way the cells are put in
order and labelled here, so both give the same bytes (tests/core/test_export_writers.py).
The labels are translated once per export, not once per row.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection, models
from django.db.models import CharField, F, Func, OuterRef, Subquery, Value
from django.db.models.functions import Concat
from django.http import HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.csvfiles import Row, csv_response
from core.spreadsheets import xlsx_response
from core.streaming import stream_rows
from survey.models import Country, Item, Sector

from .models import (
    EvidenceLevel,
    Initiative,
    Level,
    Participation,
    ParticipationLevel,
    PartnerType,
    Phase,
    ReviewStatus,
    Stage,
    StageChange,
)

BATCH_SIZE = 500

# The scalar columns read straight from the initiative and its one-to-one frameworks.
SCALAR_FIELDS = [
    "pk",
    "reference",
    "title",
    "summary",
    "country_id",
    "sector_id",
    "level",
    "lead_public_body",
    "organisation__name",
    "organisation__verified",
    "stage",
    "review_status",
    "start_date",
    "end_date",
    "participants",
    "accountability__accountable_body",
    "accountability__roles_written",
    "budget__amount",
    "budget__currency",
    "budget__resources_transferred",
    "budget__citizen_hours",
    "budget__estimated_costs",
    "budget__estimated_benefits",
    "budget__evidence_level",
    "published_at",
    "updated_at",
    "description",
    "accountability__reporting_line",
    "accountability__reporting_frequency",
    "accountability__risk_arrangements",
    "accountability__probity_arrangements",
    "accountability__notes",
    "budget__funding_sources",
    "budget__funded_beyond_pilot",
    "budget__transferred_amount",
    "budget__financial_incentives",
    "budget__citizen_knowledge",
    "budget__citizen_effort",
    "version",
]

TAG_FIELDS = Initiative.TAG_FIELDS

#: The sort orders the list offers (`InitiativeFilterSet.ordering`); the export follows
#: the list's, with the primary key last to break ties.
ORDERABLE = frozenset({"updated_at", "title", "reference", "pk"})
DEFAULT_ORDER = ("-updated_at", "-pk")


def export_order(queryset: "models.QuerySet[Initiative]") -> list[str]:
    """The order of the list `queryset` comes from: its sort, or the list's default."""
    chosen = [
        name
        for name in queryset.query.order_by
        if isinstance(name, str) and name.lstrip("-") in ORDERABLE
    ]
    if not chosen:
        return list(DEFAULT_ORDER)
    if chosen[-1].lstrip("-") != "pk":
        chosen.append("-pk" if chosen[-1].startswith("-") else "pk")
    return chosen


def columns() -> list[tuple[str, str]]:
    """(column name, meaning) for every column of the export, in order."""
    tag_meanings = {
        "objectives": _("objectives (items of the survey question “reasons”)"),
        "barriers": _("barriers met (items of the question “barriers”)"),
        "barriers_addressed": _("barriers addressed (items of the question “barriers”)"),
        "factors": _("success factors (items of the question “factors”)"),
    }
    result = [
        ("reference", _("Case reference, COP-<year>-<number>.")),
        ("title", _("Title of the initiative.")),
        ("summary", _("Short summary.")),
        ("country", _("Country, ISO 3166-1 alpha-3 code.")),
        ("country_name", _("Country name.")),
        ("sector", _("Service sector, COFOG division code (01–10).")),
        ("sector_label", _("Service sector label.")),
        ("level", _("Level of government, code.")),
        ("level_label", _("Level of government, label.")),
        ("lead_public_body", _("Lead public body.")),
        ("organisation", _("Owner organisation (the group that keeps the record).")),
        ("organisation_verified", _("Whether staff have verified the organisation (yes/no).")),
        ("stage", _("Maturity stage, code.")),
        ("stage_label", _("Maturity stage, label.")),
        ("review_status", _("Review status, code.")),
        ("review_status_label", _("Review status, label.")),
        ("start_date", _("Start date (YYYY-MM-DD).")),
        ("end_date", _("End date (YYYY-MM-DD).")),
        ("participants", _("Number of participants.")),
        (
            "participation",
            _("Who does what: phase:partner_type pairs joined by “|”, e.g. design:citizen."),
        ),
        (
            "participation_levels",
            _("The same pairs with their participation level: phase:partner_type:level."),
        ),
    ]
    for field in TAG_FIELDS:
        what = {"what": tag_meanings[field]}
        result.append((field, _("Codes of the %(what)s, joined by “|”.") % what))
        result.append((f"{field}_labels", _("Labels of the %(what)s, joined by “|”.") % what))
    result += [
        ("accountable_body", _("Accountability framework: the accountable body.")),
        (
            "roles_written",
            _("Accountability framework: roles and responsibilities written down (yes/no)."),
        ),
        ("budget", _("Budget framework: budget amount.")),
        ("currency", _("Budget framework: currency, ISO 4217 code.")),
        (
            "resources_transferred",
            _("Budget framework: resources transferred to users (yes/no)."),
        ),
        ("citizen_hours", _("Budget framework: citizens' hours of time contributed.")),
        ("estimated_costs", _("Business case: estimated costs.")),
        ("estimated_benefits", _("Business case: estimated benefits.")),
        ("evidence_level", _("Business case: level of evidence, code.")),
        ("evidence_level_label", _("Business case: level of evidence, label.")),
        ("published_at", _("When the initiative was published (ISO 8601, UTC).")),
        ("updated_at", _("When the record last changed (ISO 8601, UTC).")),
        ("description", _("Description of the initiative.")),
        (
            "stage_history",
            _(
                "The stage history as it happened: stage:date entries in date order, joined "
                "by “|”, e.g. planned:2019-03-01|pilot:2020-01-15|embedded:2022-06-01. The "
                "stage codes are those of the column stage; dates are YYYY-MM-DD."
            ),
        ),
        ("reporting_line", _("Accountability framework: reporting line.")),
        ("reporting_frequency", _("Accountability framework: reporting frequency.")),
        ("risk_arrangements", _("Accountability framework: risk arrangements.")),
        ("probity_arrangements", _("Accountability framework: probity arrangements.")),
        ("accountability_notes", _("Accountability framework: notes.")),
        ("funding_sources", _("Budget framework: funding sources.")),
        (
            "funded_beyond_pilot",
            _("Budget framework: funding secured beyond the pilot (yes/no)."),
        ),
        ("transferred_amount", _("Budget framework: amount transferred to users.")),
        ("financial_incentives", _("Budget framework: financial incentives.")),
        ("citizen_knowledge", _("Budget framework: citizens' knowledge contributed.")),
        ("citizen_effort", _("Budget framework: citizens' effort contributed.")),
        (
            "version",
            _(
                "Version of the record when exported. An import refuses a row whose version "
                "is older than the stored one (someone changed the record since)."
            ),
        ),
    ]
    from .imports.derived import CHECKED, DERIVED  # what the import reads is the import's to say

    for index, (name, meaning) in enumerate(result):
        if name in DERIVED:
            instead = DERIVED[name]
            if instead:
                note = _("Not read by the import: edit %(column)s instead.") % {"column": instead}
            else:
                note = _("Not read by the import: coprod writes it.")
            if name in CHECKED:
                note += " " + _("A row that changes this cell is refused.")
            result[index] = (name, f"{meaning} {note}")
    return result


T = TypeVar("T")


def _batches(iterable: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


#: The multi-value cells of one initiative, before they are sorted and labelled: the
#: (phase, partner type, level) triples of its matrix, its stage history as `stage:date`
#: entries in date order, and the item ids of each tag field.
Cells = dict[str, list[Any]]


def _multi_values(ids: Sequence[int]) -> dict[int, Cells]:
    """The matrix, history and tag cells of a batch of initiatives: one query per relation."""
    cells: defaultdict[int, Cells] = defaultdict(lambda: defaultdict(list))
    participations = (
        Participation.objects.filter(initiative_id__in=ids)
        .order_by("initiative_id", "phase", "partner_type")
        .values_list("initiative_id", "phase", "partner_type", "level")
    )
    # A batch's cells are a few thousand small rows: one plain fetch each, not a server-side
    # cursor's DECLARE/FETCH/CLOSE round trips.
    for initiative_id, phase, partner, level in participations:
        cells[initiative_id]["participation"].append((phase, partner, level))
    changes = (
        StageChange.objects.filter(initiative_id__in=ids)
        .order_by("initiative_id", "changed_on", "changed_at", "pk")
        .values_list("initiative_id", "to_stage", "changed_on")
    )
    for initiative_id, stage, changed_on in changes:
        cells[initiative_id]["stage_history"].append(f"{stage}:{changed_on.isoformat()}")
    for field in TAG_FIELDS:
        through = getattr(Initiative, field).through
        pairs = through.objects.filter(initiative_id__in=ids).values_list(
            "initiative_id", "item_id"
        )
        for initiative_id, item_id in pairs:
            cells[initiative_id][field].append(item_id)
    return cells


def _array(model: type[models.Model], value: Any, *ordering: str) -> Subquery:
    """An initiative's rows of `model` as one array of `value` (NULL when it has none)."""
    return Subquery(
        model._default_manager.filter(initiative=OuterRef("pk"))
        .order_by()
        .values("initiative")
        .annotate(cell=ArrayAgg(value, order_by=ordering))
        .values("cell")
    )


def _aggregated_cells() -> dict[str, Subquery]:
    """The same cells as `_multi_values`, as columns of the export's query (PostgreSQL)."""
    day = Func(F("changed_on"), Value("YYYY-MM-DD"), function="to_char", output_field=CharField())
    cells = {
        "participation": _array(
            Participation,
            Concat("phase", Value(":"), "partner_type", Value(":"), "level"),
        ),
        "stage_history": _array(
            StageChange,
            Concat("to_stage", Value(":"), day),
            "changed_on",
            "changed_at",
            "pk",
        ),
    }
    for field in TAG_FIELDS:
        cells[field] = _array(getattr(Initiative, field).through, F("item_id"))
    return cells


def _aggregates_cells() -> bool:
    return connection.vendor == "postgresql"


def _records(queryset: "models.QuerySet[Initiative]") -> Iterator[tuple[dict[str, Any], Cells]]:
    """(scalar fields, multi-value cells) of each initiative, in the export's order."""
    ordered = queryset.order_by(*export_order(queryset))
    if _aggregates_cells():
        aggregated = _aggregated_cells()
        # Named apart from the fields they aggregate (`objectives` is the relation itself).
        annotations = {f"{name}_cell": cell for name, cell in aggregated.items()}
        records = stream_rows(
            ordered.annotate(**annotations).values_list(*SCALAR_FIELDS, *annotations)
        )
        scalars = len(SCALAR_FIELDS)
        for record in records:
            cells = dict(zip(aggregated, record[scalars:], strict=True))
            cells["participation"] = [
                tuple(entry.split(":")) for entry in cells["participation"] or ()
            ]
            yield dict(zip(SCALAR_FIELDS, record[:scalars], strict=True)), cells
        return
    # `iterator()`, not `stream_rows`: each batch's cells are queried while the rows are read.
    batches = _batches(
        ordered.values_list(*SCALAR_FIELDS).iterator(chunk_size=BATCH_SIZE), BATCH_SIZE
    )
    for batch in batches:
        cells_of = _multi_values([record[0] for record in batch])
        for record in batch:
            yield dict(zip(SCALAR_FIELDS, record, strict=True)), cells_of.get(record[0], {})


def _labels(choices: type[models.Choices]) -> dict[str, str]:
    return {code: str(label) for code, label in choices.choices}


def _iso(value: Any) -> str:
    return value.isoformat() if value is not None else ""


def _vocabulary() -> dict[str, dict[Any, Any]]:
    """The labels of every code, in the active language: translated once, not once per row."""
    return {
        "countries": dict(Country.objects.values_list("code", "name")),
        "sectors": {sector.code: sector.label for sector in Sector.objects.all()},
        "items": {item.pk: (item.order, item.code, item.label) for item in Item.objects.all()},
        "levels": _labels(Level),
        "stages": _labels(Stage),
        "statuses": _labels(ReviewStatus),
        "evidence": _labels(EvidenceLevel),
    }


def _same(value: T) -> T:
    return value


_PHASE_ORDER = {value: index for index, value in enumerate(Phase.values)}
_PARTNER_ORDER = {value: index for index, value in enumerate(PartnerType.values)}


def participation_cells(entries: Iterable[tuple[str, str, str]]) -> tuple[str, str]:
    """The cells `participation` and `participation_levels` of (phase, partner, level)
    triples, in the order of the phases and partner types, as the case page shows them."""
    matrix = sorted(
        (_PHASE_ORDER.get(phase, 99), _PARTNER_ORDER.get(partner, 99), phase, partner, level)
        for phase, partner, level in entries
    )
    return (
        "|".join(f"{phase}:{partner}" for _a, _b, phase, partner, _l in matrix),
        "|".join(f"{phase}:{partner}:{level}" for _a, _b, phase, partner, level in matrix),
    )


def rows(queryset: "models.QuerySet[Initiative]", *, typed: bool = False) -> Iterator[Row]:
    """Yield the export rows of `queryset`, which is already filtered and permission-checked.

    In the order of the list it comes from (`export_order`). `typed`: dates, timestamps
    and numbers as Python values (for XLSX) rather than the CSV's ISO text.
    """
    _when = _same if typed else _iso
    vocabulary = _vocabulary()
    countries, sectors, items = (vocabulary[key] for key in ("countries", "sectors", "items"))
    levels, stages = vocabulary["levels"], vocabulary["stages"]
    statuses, evidence = vocabulary["statuses"], vocabulary["evidence"]

    for data, extra in _records(queryset):
        participation, participation_levels = participation_cells(extra.get("participation") or ())
        row = [
            data["reference"],
            data["title"],
            data["summary"],
            data["country_id"],
            countries.get(data["country_id"], ""),
            data["sector_id"],
            sectors.get(data["sector_id"], ""),
            data["level"],
            levels.get(data["level"], ""),
            data["lead_public_body"],
            data["organisation__name"] or "",
            bool(data["organisation__verified"]),
            data["stage"],
            stages.get(data["stage"], ""),
            data["review_status"],
            statuses.get(data["review_status"], ""),
            _when(data["start_date"]),
            _when(data["end_date"]),
            data["participants"],
            participation,
            participation_levels,
        ]
        for field in TAG_FIELDS:
            tagged = sorted(items[item_id] for item_id in extra.get(field) or ())
            row.append("|".join(code for _order, code, _label in tagged))
            row.append("|".join(label for _order, _code, label in tagged))
        row += [
            data["accountability__accountable_body"] or "",
            data["accountability__roles_written"],
            data["budget__amount"],
            data["budget__currency"] or "",
            data["budget__resources_transferred"],
            data["budget__citizen_hours"],
            data["budget__estimated_costs"],
            data["budget__estimated_benefits"],
            data["budget__evidence_level"] or "",
            evidence.get(data["budget__evidence_level"] or "", ""),
            _when(data["published_at"]),
            _when(data["updated_at"]),
            data["description"],
            "|".join(extra.get("stage_history") or ()),
            data["accountability__reporting_line"] or "",
            data["accountability__reporting_frequency"] or "",
            data["accountability__risk_arrangements"] or "",
            data["accountability__probity_arrangements"] or "",
            data["accountability__notes"] or "",
            data["budget__funding_sources"] or "",
            data["budget__funded_beyond_pilot"],
            data["budget__transferred_amount"],
            data["budget__financial_incentives"] or "",
            data["budget__citizen_knowledge"] or "",
            data["budget__citizen_effort"] or "",
            data["version"],
        ]
        yield row


def initiatives_csv(
    queryset: "models.QuerySet[Initiative]", filename: str = "initiatives.csv", *, bom: bool = False
) -> StreamingHttpResponse:
    """The CSV file; `bom`: with a UTF-8 byte order mark, for spreadsheet programs."""
    header = [name for name, _meaning in columns()]
    return csv_response(filename, header, rows(queryset), bom=bom)


def initiatives_xlsx(
    queryset: "models.QuerySet[Initiative]", filename: str = "initiatives.xlsx"
) -> HttpResponseBase:
    """The same table as XLSX, with typed cells (`core.spreadsheets`)."""
    header = [name for name, _meaning in columns()]
    return xlsx_response(filename, header, rows(queryset, typed=True), sheet="initiatives")


def codebook_rows() -> Iterator[list[str]]:
    """Every column with its meaning, then every code of every coded column with its label."""
    for name, meaning in columns():
        yield [name, "", "", meaning]
    coded = [
        ("level", Level.choices),
        ("stage", Stage.choices),
        ("review_status", ReviewStatus.choices),
        ("evidence_level", EvidenceLevel.choices),
        ("participation:phase", Phase.choices),
        ("participation:partner_type", PartnerType.choices),
        ("participation_levels:level", ParticipationLevel.choices),
    ]
    for column, choices in coded:
        for code, label in choices:
            yield [column, code, str(label), ""]
    for sector in Sector.objects.all():
        yield ["sector", sector.code, sector.label, ""]
    for country in Country.objects.order_by("code"):
        yield ["country", country.code, country.name, ""]
    by_question: defaultdict[str, list[Item]] = defaultdict(list)
    for item in Item.objects.select_related("question"):
        by_question[item.question.code].append(item)
    for field in TAG_FIELDS:
        for item in by_question[Initiative.TAG_QUESTIONS[field]]:
            yield [field, item.code, item.label, ""]
    for code, label in Stage.choices:
        yield ["stage_history:stage", code, str(label), ""]
    for file_name, how_to_open in FILES:
        yield [file_name, "", "", str(how_to_open)]


#: The three files of the same table, and how to open each.
FILES = [
    (
        "file:initiatives.csv",
        gettext_lazy(
            "For programs: UTF-8 CSV without a byte order mark, comma-separated, dates as "
            "YYYY-MM-DD, a leading ' before text that a spreadsheet would read as a formula."
        ),
    ),
    (
        "file:initiatives-spreadsheet.csv",
        gettext_lazy(
            "The same CSV with a UTF-8 byte order mark, so that LibreOffice, gnumeric and "
            "Excel read accents right. To keep codes such as 07 and titles such as 1/2 as "
            "written, open it through the import dialogue (LibreOffice: Text Import; Excel: "
            "Data > From Text/CSV), choose comma as separator and set the code and title "
            "columns to Text. Prefer the XLSX file: it needs none of this."
        ),
    ),
    (
        "file:initiatives.xlsx",
        gettext_lazy(
            "The same table as an XLSX workbook: codes and texts are text cells (07 stays "
            "07, =1+1 stays text, no apostrophe), numbers are numbers in any locale, dates "
            "and timestamps are dates (UTC), the header row is frozen."
        ),
    ),
]


#: The codebook's headings: fixed names, like the export's, so that scripts can rely on them.
CODEBOOK_HEADER = ["column", "code", "label", "meaning"]


def codebook_csv() -> StreamingHttpResponse:
    return csv_response("codebook.csv", CODEBOOK_HEADER, codebook_rows())


def codebook_xlsx() -> HttpResponseBase:
    """The codebook as a workbook: codes such as 07 stay text, accents read right."""
    return xlsx_response("codebook.xlsx", CODEBOOK_HEADER, codebook_rows(), sheet="codebook")
