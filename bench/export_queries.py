"""The exports measured and, for each, the hand-written SQL that yields the same columns.

The SQL is the floor: `COPY (SELECT ...) TO STDOUT WITH CSV` makes PostgreSQL itself format
every row, so no application can produce the same file faster from the same database.
"""

SURVEY_SQL = """
SELECT w.code AS wave, r.country_id AS country, r.code AS respondent, s.sector_id AS sector,
       q.code AS question, i.code AS item,
       CASE WHEN s.affirmative THEN 'yes' ELSE 'no' END AS answer
FROM survey_response s
JOIN survey_respondent r ON r.id = s.respondent_id
JOIN survey_wave w ON w.id = r.wave_id
JOIN survey_item i ON i.id = s.item_id
JOIN survey_question q ON q.id = i.question_id
ORDER BY w.code, r.country_id, r.code, s.sector_id, q."order", q.code, i."order", i.code
"""

_PHASES = "ARRAY['commission', 'design', 'deliver', 'assess']"
_PARTNERS = "ARRAY['citizen', 'user', 'community_group', 'cso', 'professional', 'private']"


def _label(column, choices):
    cases = " ".join(f"WHEN '{code}' THEN '{label}'" for code, label in choices)
    return f"CASE {column} {cases} ELSE '' END"


def _tags(field):
    table = f"initiatives_initiative_{field}"
    cells = []
    for value in ("it.code", "it.label"):
        cells.append(
            f"(SELECT string_agg({value}, '|' ORDER BY it.\"order\", it.code) FROM {table} t "
            f"JOIN survey_item it ON it.id = t.item_id WHERE t.initiative_id = i.id)"
        )
    return ", ".join(cells)


INITIATIVES_SQL = f"""
SELECT i.reference, i.title, i.summary, i.country_id, c.name, i.sector_id, se.label, i.level,
       {
    _label(
        "i.level",
        [
            ("local", "Local"),
            ("regional", "Regional"),
            ("national", "National"),
            ("supranational", "Supranational"),
        ],
    )
},
       i.lead_public_body, coalesce(o.name, ''),
       CASE WHEN o.verified THEN 'yes' ELSE 'no' END,
       i.stage,
       {
    _label(
        "i.stage",
        [
            ("planned", "Planned"),
            ("pilot", "Pilot"),
            ("embedded", "Embedded"),
            ("discontinued", "Discontinued"),
        ],
    )
},
       i.review_status,
       {
    _label(
        "i.review_status",
        [
            ("draft", "Draft"),
            ("submitted", "Submitted"),
            ("published", "Published"),
            ("returned", "Returned"),
        ],
    )
},
       i.start_date, i.end_date, i.participants,
       (SELECT string_agg(p.phase || ':' || p.partner_type, '|'
               ORDER BY array_position({_PHASES}, p.phase::text),
                        array_position({_PARTNERS}, p.partner_type::text))
        FROM initiatives_participation p WHERE p.initiative_id = i.id),
       (SELECT string_agg(p.phase || ':' || p.partner_type || ':' || p.level, '|'
               ORDER BY array_position({_PHASES}, p.phase::text),
                        array_position({_PARTNERS}, p.partner_type::text))
        FROM initiatives_participation p WHERE p.initiative_id = i.id),
       {_tags("objectives")}, {_tags("barriers")}, {_tags("barriers_addressed")},
       {_tags("factors")},
       coalesce(a.accountable_body, ''),
       CASE WHEN a.roles_written THEN 'yes' WHEN NOT a.roles_written THEN 'no' END,
       b.amount, coalesce(b.currency, ''),
       CASE WHEN b.resources_transferred THEN 'yes' WHEN NOT b.resources_transferred THEN 'no' END,
       b.citizen_hours, b.estimated_costs, b.estimated_benefits, coalesce(b.evidence_level, ''),
       {
    _label(
        "b.evidence_level",
        [
            ("self_reported", "Self-reported"),
            ("monitored", "Monitored"),
            ("formally_evaluated", "Formally evaluated"),
        ],
    )
},
       i.published_at, i.updated_at
FROM initiatives_initiative i
JOIN survey_country c ON c.code = i.country_id
JOIN survey_sector se ON se.code = i.sector_id
LEFT JOIN initiatives_organisation o ON o.id = i.organisation_id
LEFT JOIN initiatives_accountabilityframework a ON a.initiative_id = i.id
LEFT JOIN initiatives_budgetframework b ON b.initiative_id = i.id
WHERE i.archived_at IS NULL
ORDER BY i.reference
"""

# name -> (path, who asks, floor SQL). Staff see every initiative that is not archived.
EXPORTS = {
    "survey records": ("/admin/survey/response/export/", "staff", SURVEY_SQL),
    "initiatives": ("/initiatives/export.csv", "staff", INITIATIVES_SQL),
}


def copy_seconds(conn, sql, jit=True):
    """Time `COPY (sql) TO STDOUT WITH CSV HEADER`, reading every byte; returns (s, bytes).

    PostgreSQL's JIT compiler switches itself on for queries it estimates to be costly and
    can spend seconds compiling them; jit=False measures the same query without it.
    """
    import time

    conn.execute(f"SET jit = {'on' if jit else 'off'}")
    started = time.perf_counter()
    size = 0
    with conn.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV HEADER") as copy:
        for data in copy:
            size += len(data)
    elapsed = time.perf_counter() - started
    conn.execute("RESET jit")
    return elapsed, size


def floor_seconds(conn, sql, repeat=3):
    """The database's best time for the query: the median with JIT and without, whichever is
    lower; returns (seconds, bytes, {"jit_on": s, "jit_off": s})."""
    import statistics

    runs = {"jit_on": [], "jit_off": []}
    size = 0
    for _ in range(repeat):
        for key, jit in (("jit_on", True), ("jit_off", False)):
            seconds, size = copy_seconds(conn, sql, jit=jit)
            runs[key].append(seconds)
    medians = {key: round(statistics.median(times), 3) for key, times in runs.items()}
    return min(medians.values()), size, medians
