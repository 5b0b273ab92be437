"""The pages measured, with the data they need picked the same way on every database."""

from common import psycopg_connect

# (name, URL template, who asks): "anonymous" or "staff" (signed in as the bench superuser).
PAGES = [
    ("public list", "/initiatives/", "anonymous"),
    ("public list, filtered", "/initiatives/?country=FIN&stage=pilot&ordering=title", "anonymous"),
    ("case page", "/initiatives/{reference}/", "anonymous"),
    ("admin changelist", "/admin/initiatives/initiative/", "staff"),
    # A filter that fills the page at both sizes (one country's pilots are 11 rows in the
    # small set and a full page of 100 in the large one: that page renders 9x the rows).
    ("admin changelist, filtered", "/admin/initiatives/initiative/?stage__exact=pilot", "staff"),
    ("API list", "/api/initiatives/", "anonymous"),
    ("API case", "/api/initiatives/{reference}/", "anonymous"),
    ("API responses (staff)", "/api/survey/responses/", "staff"),
    ("indicator report", "/reports/indicators/?wave={wave}&question=barriers", "anonymous"),
    (
        "indicator report by country",
        "/reports/indicators/?wave={wave}&question=barriers&by=country",
        "anonymous",
    ),
    ("maturity pipeline", "/reports/maturity/", "anonymous"),
    (
        "maturity vs indicators",
        "/reports/maturity/indicators/?wave={wave}&question=factors",
        "anonymous",
    ),
    ("country profile", "/reports/countries/FIN/", "anonymous"),
    ("evidence and business case", "/reports/evidence/", "anonymous"),
    ("embedding readiness", "/reports/readiness/", "staff"),
]


def parameters(scale, size):
    """A published initiative in the middle of the ids, and the wave with the most records."""
    with psycopg_connect(scale, size) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM initiatives_initiative "
            "WHERE review_status = 'published' AND archived_at IS NULL"
        ).fetchone()
        (reference,) = conn.execute(
            "SELECT reference FROM initiatives_initiative "
            "WHERE review_status = 'published' AND archived_at IS NULL "
            "ORDER BY id OFFSET %s LIMIT 1",
            [count // 2],
        ).fetchone()
        row = conn.execute(
            "SELECT w.code FROM survey_wave w JOIN survey_respondent r ON r.wave_id = w.id "
            "JOIN survey_response s ON s.respondent_id = r.id "
            "GROUP BY w.code ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    return {"reference": reference, "wave": row[0] if row else "OECD-2010"}


def url(template, params):
    return template.format(**params)
