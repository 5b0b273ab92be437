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
from django.utils.translation import gettext_lazy

from core.csvfiles import (
    copy_response,
    csv_response,
    spelled,
    sql_text,
    sql_yes_no,
)
from core.spreadsheets import xlsx_response
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

#: The sort orders the list offers (`InitiativeFilterSet.ordering`), as the server's SQL
#: names them; the export follows the list's, with the primary key last to break ties.
ORDER_COLUMNS = {
    "updated_at": "i.updated_at",
    "title": "i.title",
    "reference": "i.reference",
    "pk": "i.id",
}
DEFAULT_ORDER = ("-updated_at", "-pk")


def export_order(queryset):
    """The order of the list `queryset` comes from: its sort, or the list's default."""
    chosen = [name for name in queryset.query.order_by if name.lstrip("-") in ORDER_COLUMNS]
    if not chosen:
        return list(DEFAULT_ORDER)
    if chosen[-1].lstrip("-") != "pk":
        chosen.append("-pk" if chosen[-1].startswith("-") else "pk")
    return chosen


def _sql_order(order):
    return ", ".join(
        f"{ORDER_COLUMNS[name.lstrip('-')]} {'DESC' if name.startswith('-') else 'ASC'}"
        for name in order
    )


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


def _same(value):
    return value


def rows(queryset, *, typed=False):
    """Yield the export rows of `queryset`, which is already filtered and permission-checked.

    In the order of the list it comes from (`export_order`). `typed`: dates, timestamps
    and numbers as Python values (for XLSX) rather than the CSV's ISO text.
    """
    _when = _same if typed else _iso
    vocabulary = _vocabulary()
    countries, sectors, items = (vocabulary[key] for key in ("countries", "sectors", "items"))
    levels, stages = vocabulary["levels"], vocabulary["stages"]
    statuses, evidence = vocabulary["statuses"], vocabulary["evidence"]

    records = (
        queryset.order_by(*export_order(queryset))
        .values_list(*SCALAR_FIELDS)
        .iterator(chunk_size=BATCH_SIZE)
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
                _when(data["start_date"]),
                _when(data["end_date"]),
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
                _when(data["published_at"]),
                _when(data["updated_at"]),
                data["description"],
                "|".join(extra.get("stage_history", [])),
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
       i.published_at AS c39, i.updated_at AS c40,
       i.description AS c41, history.entries AS c42,
       i.reporting_line AS c43, i.reporting_frequency AS c44, i.risk_arrangements AS c45,
       i.probity_arrangements AS c46, i.accountability_notes AS c47,
       i.funding_sources AS c48, i.funded_beyond_pilot AS c49, i.transferred_amount AS c50,
       i.financial_incentives AS c51, i.citizen_knowledge AS c52, i.citizen_effort AS c53,
       i.version AS c54
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
           b.estimated_benefits, b.evidence_level, i.published_at, i.updated_at,
           i.description, a.reporting_line, a.reporting_frequency, a.risk_arrangements,
           a.probity_arrangements, a.notes AS accountability_notes, b.funding_sources,
           b.funded_beyond_pilot, b.transferred_amount, b.financial_incentives,
           b.citizen_knowledge, b.citizen_effort, i.version
    FROM initiatives_initiative i
    LEFT JOIN initiatives_organisation o ON o.id = i.organisation_id
    LEFT JOIN initiatives_accountabilityframework a ON a.initiative_id = i.id
    LEFT JOIN initiatives_budgetframework b ON b.initiative_id = i.id
    WHERE i.id IN ({{initiatives}})
    ORDER BY {{order}}
    OFFSET 0
) i
LEFT JOIN LATERAL (
    SELECT string_agg(s.to_stage || ':' || to_char(s.changed_on, 'YYYY-MM-DD'), '|'
                      ORDER BY s.changed_on, s.changed_at, s.id) AS entries
    FROM initiatives_stagechange s WHERE s.initiative_id = i.id
) history ON true
LEFT JOIN LATERAL (
    SELECT string_agg(p.phase || ':' || p.partner_type, '|' ORDER BY {_PAIR_ORDER}) AS pairs,
           string_agg(p.phase || ':' || p.partner_type || ':' || p.level, '|'
                      ORDER BY {_PAIR_ORDER}) AS levels
    FROM initiatives_participation p WHERE p.initiative_id = i.id
) participation ON true
{"".join(_TAG_CELLS.format(field=field) for field in TAG_FIELDS)}
ORDER BY {{order}}
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
    + [sql_text] * 8  # description, stage_history ... funding_sources
    + [sql_yes_no, None]  # funded_beyond_pilot, transferred_amount
    + [sql_text] * 3  # financial_incentives, citizen_knowledge, citizen_effort
    + [None]  # version
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
    order = _sql_order(export_order(queryset))
    return spelled(_SQL.format(initiatives=initiatives, order=order), _SPELLINGS), params


def _server_writes():
    return connection.vendor == "postgresql"


def initiatives_csv(queryset, filename="initiatives.csv", *, bom=False):
    """The CSV file; `bom`: with a UTF-8 byte order mark, for spreadsheet programs."""
    header = [name for name, _meaning in columns()]
    if _server_writes():
        return copy_response(filename, header, *export_sql(queryset), bom=bom)
    return csv_response(filename, header, rows(queryset), bom=bom)


def initiatives_xlsx(queryset, filename="initiatives.xlsx"):
    """The same table as XLSX, with typed cells (`core.spreadsheets`)."""
    header = [name for name, _meaning in columns()]
    return xlsx_response(filename, header, rows(queryset, typed=True), sheet="initiatives")


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
    for code, label in Stage.choices:
        yield ["stage_history:stage", code, str(label), ""]
    for name, meaning in FILES:
        yield [name, "", "", str(meaning)]


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


def codebook_csv():
    # The headings are fixed names, like the export's, so scripts can rely on them.
    header = ["column", "code", "label", "meaning"]
    return csv_response("codebook.csv", header, codebook_rows())
