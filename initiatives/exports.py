"""The initiatives CSV export and its codebook.

One row per initiative. Coded fields come as a code column and a label column; the
who-does-what matrix and the tags are multi-value cells (`design:citizen|deliver:cso`,
`involvement|quality`). Rows are read with `values_list(...).iterator()` and the
multi-value cells are fetched with one query per relation per batch of rows, so the
cost grows with the number of batches, never with a query per row.
"""

from collections import defaultdict
from itertools import islice

from django.utils.translation import gettext as _

from coprod_site.csvfiles import csv_response
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
]

TAG_FIELDS = ["objectives", "barriers", "barriers_addressed", "factors"]


def columns():
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
    ]
    return result


def _batches(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


def _multi_values(ids):
    """The matrix and tag cells of a batch of initiatives: one query per relation."""
    cells = defaultdict(lambda: defaultdict(list))
    participations = (
        Participation.objects.filter(initiative_id__in=ids)
        .order_by("initiative_id", "phase", "partner_type")
        .values_list("initiative_id", "phase", "partner_type", "level")
    )
    phase_order = {value: index for index, value in enumerate(Phase.values)}
    partner_order = {value: index for index, value in enumerate(PartnerType.values)}
    # A batch's cells are a few thousand small rows: one plain fetch each, not a server-side
    # cursor's DECLARE/FETCH/CLOSE round trips.
    for initiative_id, phase, partner, level in participations:
        cells[initiative_id]["participation"].append(
            (phase_order.get(phase, 99), partner_order.get(partner, 99), phase, partner, level)
        )
    for field in TAG_FIELDS:
        through = getattr(Initiative, field).through
        pairs = through.objects.filter(initiative_id__in=ids).values_list(
            "initiative_id", "item_id"
        )
        for initiative_id, item_id in pairs:
            cells[initiative_id][field].append(item_id)
    return cells


def _labels(choices):
    return {code: str(label) for code, label in choices.choices}


def _iso(value):
    return value.isoformat() if value is not None else ""


def rows(queryset):
    """Yield the export rows of `queryset`, which is already filtered and permission-checked."""
    countries = dict(Country.objects.values_list("code", "name"))
    sectors = {sector.code: sector.label for sector in Sector.objects.all()}
    items = {item.pk: (item.order, item.code, item.label) for item in Item.objects.all()}
    # Labels translated once here, not once per row.
    levels, stages = _labels(Level), _labels(Stage)
    statuses, evidence = _labels(ReviewStatus), _labels(EvidenceLevel)

    records = (
        queryset.order_by("reference").values_list(*SCALAR_FIELDS).iterator(chunk_size=BATCH_SIZE)
    )
    for batch in _batches(records, BATCH_SIZE):
        cells = _multi_values([record[0] for record in batch])
        for record in batch:
            data = dict(zip(SCALAR_FIELDS, record, strict=True))
            extra = cells.get(data["pk"], {})
            matrix = sorted(extra.get("participation", []))
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
                _iso(data["start_date"]),
                _iso(data["end_date"]),
                data["participants"],
                "|".join(f"{phase}:{partner}" for _a, _b, phase, partner, _l in matrix),
                "|".join(f"{phase}:{partner}:{level}" for _a, _b, phase, partner, level in matrix),
            ]
            for field in TAG_FIELDS:
                tagged = sorted(items[item_id] for item_id in extra.get(field, []))
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
                _iso(data["published_at"]),
                _iso(data["updated_at"]),
            ]
            yield row


def initiatives_csv(queryset, filename="initiatives.csv"):
    return csv_response(filename, [name for name, _meaning in columns()], rows(queryset))


def codebook_rows():
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
    by_question = defaultdict(list)
    for item in Item.objects.select_related("question"):
        by_question[item.question.code].append(item)
    for field in TAG_FIELDS:
        for item in by_question[Initiative.TAG_QUESTIONS[field]]:
            yield [field, item.code, item.label, ""]


def codebook_csv():
    # The headings are fixed names, like the export's, so scripts can rely on them.
    header = ["column", "code", "label", "meaning"]
    return csv_response("codebook.csv", header, codebook_rows())
