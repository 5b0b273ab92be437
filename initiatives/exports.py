"""The initiatives CSV export and its codebook.

One row per initiative. Coded fields come as a code column and a label column; the
who-does-what matrix and the tags are multi-value cells (`design:citizen|deliver:cso`,
`involvement|quality`).

On PostgreSQL one query builds every row, the multi-value cells aggregated beside the
scalar columns, and the server writes the CSV (`copy_chunks`); the labels, translated
here, travel with it as parameters. Elsewhere rows are read with
`values_list(...).iterator()` and the multi-value cells are fetched with one query per
relation per batch of rows. Both write the same bytes.
"""

import json
from collections import defaultdict
from itertools import islice

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils.translation import gettext as _

from core.csvfiles import (
    copy_response,
    csv_response,
    spelled,
    sql_text,
    sql_yes_no,
)
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

TAG_FIELDS = Initiative.TAG_FIELDS


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


def _vocabulary():
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


def rows(queryset):
    """Yield the export rows of `queryset`, which is already filtered and permission-checked."""
    vocabulary = _vocabulary()
    countries, sectors, items = (vocabulary[key] for key in ("countries", "sectors", "items"))
    levels, stages = vocabulary["levels"], vocabulary["stages"]
    statuses, evidence = vocabulary["statuses"], vocabulary["evidence"]

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


# The rows of the export as PostgreSQL builds them, sorted, one column c0, c1, ... per
# column of `columns()`; `_SPELLINGS` then writes each as `rows` does. The vocabulary
# comes as JSON objects (code -> label) in `v`. The multi-value cells are sorted as `rows`
# sorts them: by the order of the phases and partner types, by the item's order, then by
# code point (COLLATE "C"), as Python compares text.
_TAG_CELLS = """
LEFT JOIN LATERAL (
    SELECT string_agg(it.code, '|' ORDER BY it."order", it.code COLLATE "C",
                      v.items ->> it.id::text COLLATE "C") AS codes,
           string_agg(v.items ->> it.id::text, '|' ORDER BY it."order", it.code COLLATE "C",
                      v.items ->> it.id::text COLLATE "C") AS labels
    FROM initiatives_initiative_{field} t JOIN survey_item it ON it.id = t.item_id
    WHERE t.initiative_id = i.id
) {field} ON true"""

_PAIR_ORDER = """
    coalesce(array_position(v.phases, p.phase::text), 99),
    coalesce(array_position(v.partners, p.partner_type::text), 99),
    p.phase COLLATE "C", p.partner_type COLLATE "C", p.level COLLATE "C"
"""

_SQL = f"""
SELECT i.reference AS c0, i.title AS c1, i.summary AS c2,
       i.country_id AS c3, v.countries ->> i.country_id AS c4,
       i.sector_id AS c5, v.sectors ->> i.sector_id AS c6,
       i.level AS c7, v.levels ->> i.level AS c8,
       i.lead_public_body AS c9, i.organisation AS c10, coalesce(i.verified, false) AS c11,
       i.stage AS c12, v.stages ->> i.stage AS c13,
       i.review_status AS c14, v.statuses ->> i.review_status AS c15,
       i.start_date AS c16, i.end_date AS c17, i.participants AS c18,
       participation.pairs AS c19, participation.levels AS c20,
       objectives.codes AS c21, objectives.labels AS c22,
       barriers.codes AS c23, barriers.labels AS c24,
       barriers_addressed.codes AS c25, barriers_addressed.labels AS c26,
       factors.codes AS c27, factors.labels AS c28,
       i.accountable_body AS c29, i.roles_written AS c30,
       i.amount AS c31, i.currency AS c32, i.resources_transferred AS c33,
       i.citizen_hours AS c34, i.estimated_costs AS c35, i.estimated_benefits AS c36,
       i.evidence_level AS c37, v.evidence ->> coalesce(i.evidence_level, '') AS c38,
       i.published_at AS c39, i.updated_at AS c40
FROM (
    SELECT %s::jsonb AS countries, %s::jsonb AS sectors, %s::jsonb AS items,
           %s::jsonb AS levels, %s::jsonb AS stages, %s::jsonb AS statuses,
           %s::jsonb AS evidence, %s::text[] AS phases, %s::text[] AS partners
) v
CROSS JOIN (
    -- The chosen initiatives with their one-to-one rows, sorted, before any cell is
    -- aggregated: OFFSET 0 keeps the planner from aggregating for every initiative and
    -- filtering afterwards (past eight relations it stops reordering joins).
    SELECT i.id, i.reference, i.title, i.summary, i.country_id, i.sector_id, i.level,
           i.lead_public_body, o.name AS organisation, o.verified, i.stage, i.review_status,
           i.start_date, i.end_date, i.participants, a.accountable_body, a.roles_written,
           b.amount, b.currency, b.resources_transferred, b.citizen_hours, b.estimated_costs,
           b.estimated_benefits, b.evidence_level, i.published_at, i.updated_at
    FROM initiatives_initiative i
    LEFT JOIN initiatives_organisation o ON o.id = i.organisation_id
    LEFT JOIN initiatives_accountabilityframework a ON a.initiative_id = i.id
    LEFT JOIN initiatives_budgetframework b ON b.initiative_id = i.id
    WHERE i.id IN ({{initiatives}})
    ORDER BY i.reference
    OFFSET 0
) i
LEFT JOIN LATERAL (
    SELECT string_agg(p.phase || ':' || p.partner_type, '|' ORDER BY {_PAIR_ORDER}) AS pairs,
           string_agg(p.phase || ':' || p.partner_type || ':' || p.level, '|'
                      ORDER BY {_PAIR_ORDER}) AS levels
    FROM initiatives_participation p WHERE p.initiative_id = i.id
) participation ON true
{"".join(_TAG_CELLS.format(field=field) for field in TAG_FIELDS)}
ORDER BY i.reference
"""  # noqa: S608 (values come as parameters)


def _sql_date(column):
    return f"coalesce(to_char({column}, 'YYYY-MM-DD'), '')"


def _sql_moment(column):
    """A timestamp as `datetime.isoformat()` writes it in UTC (microseconds only if any)."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"coalesce(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE to_char({utc}, 'US') WHEN '000000' THEN '' ELSE to_char({utc}, '.US') END "
        f"|| '+00:00', '')"
    )


_SPELLINGS = (
    [sql_text] * 11  # reference ... organisation
    + [sql_yes_no]  # organisation_verified
    + [sql_text] * 4  # stage ... review_status_label
    + [_sql_date, _sql_date, None]  # start_date, end_date, participants
    + [sql_text] * 11  # participation ... accountable_body
    + [sql_yes_no, None, sql_text, sql_yes_no, None, None, None]  # roles_written ... benefits
    + [sql_text, sql_text, _sql_moment, _sql_moment]  # evidence_level ... updated_at
)


def export_sql(queryset):
    """(sql, params) of the SELECT that spells the export of `queryset` as CSV cells."""
    vocabulary = _vocabulary()
    items = {pk: label for pk, (_order, _code, label) in vocabulary["items"].items()}
    try:
        initiatives, filter_params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a queryset that cannot match (`.none()`) has no SQL
        initiatives, filter_params = "SELECT NULL::integer WHERE false", ()
    params = [
        json.dumps(labels)
        for labels in (
            vocabulary["countries"],
            vocabulary["sectors"],
            items,
            vocabulary["levels"],
            vocabulary["stages"],
            vocabulary["statuses"],
            vocabulary["evidence"],
        )
    ]
    params += [list(Phase.values), list(PartnerType.values), *filter_params]
    return spelled(_SQL.format(initiatives=initiatives), _SPELLINGS), params


def _server_writes():
    return connection.vendor == "postgresql"


def initiatives_csv(queryset, filename="initiatives.csv"):
    header = [name for name, _meaning in columns()]
    if _server_writes():
        return copy_response(filename, header, *export_sql(queryset))
    return csv_response(filename, header, rows(queryset))


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
