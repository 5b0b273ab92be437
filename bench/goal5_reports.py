"""Goal 5: reports at the database's speed.

    python bench/goal5_reports.py [--quick]

On the large database, each report function as the pages call it (the ORM, the Python that
shapes its rows) against a hand-written SQL aggregate giving the same numbers, run through
psycopg on the same connection, alternately, median of REPEAT. The goal holds within 1.5x.
The SQL the report sends is kept with its `EXPLAIN (ANALYZE, BUFFERS)` plan for RESULTS.md.
"""

import statistics
import time

from common import django_setup, save, scale_from_argv

LIMIT = 1.5
REPEAT = 5

INDICATOR_SQL = """
WITH answers AS (
    SELECT s.respondent_id, s.sector_id, s.item_id, s.affirmative
    FROM survey_response s
    JOIN survey_respondent r ON r.id = s.respondent_id
    JOIN survey_item i ON i.id = s.item_id
    WHERE r.wave_id = %(wave)s AND i.question_id = %(question)s
)
SELECT item_id, count(*) FILTER (WHERE affirmative),
       (SELECT count(*) FROM (SELECT DISTINCT respondent_id, sector_id FROM answers) pairs)
FROM answers GROUP BY item_id
"""

INDICATOR_BY_COUNTRY_SQL = """
WITH answers AS (
    SELECT r.country_id, s.respondent_id, s.sector_id, s.item_id, s.affirmative
    FROM survey_response s
    JOIN survey_respondent r ON r.id = s.respondent_id
    JOIN survey_item i ON i.id = s.item_id
    WHERE r.wave_id = %(wave)s AND i.question_id = %(question)s
), pairs AS (
    SELECT country_id, count(*) AS responses
    FROM (SELECT DISTINCT country_id, respondent_id, sector_id FROM answers) p
    GROUP BY country_id
)
SELECT a.country_id, a.item_id, count(*) FILTER (WHERE a.affirmative), min(p.responses)
FROM answers a JOIN pairs p USING (country_id)
GROUP BY a.country_id, a.item_id
"""


def cases():
    """(name, the report as the app computes it, hand-written SQL, its parameters)."""
    from django.db.models import Count

    from survey.models import Question, Wave
    from survey.reports import indicator_rows

    # The wave with the most records: the heaviest report there is.
    largest = (
        Wave.objects.annotate(records=Count("respondents__responses"))
        .order_by("-records", "code")
        .first()
    )
    question = Question.objects.get(code="barriers")
    params = {"wave": largest.pk, "question": question.pk}
    found = [
        (
            f"indicator report ({largest.code}, barriers)",
            lambda: indicator_rows(wave=largest, question=question),
            INDICATOR_SQL,
            params,
        ),
        (
            f"indicator report by country ({largest.code}, barriers)",
            lambda: indicator_rows(wave=largest, question=question, by="country"),
            INDICATOR_BY_COUNTRY_SQL,
            params,
        ),
    ]
    found += maturity_cases(largest)
    return found


def maturity_cases(wave):
    """The maturity reports (issue 6), when they are there."""
    try:
        from initiatives import reports
    except ImportError:
        return []
    from survey.models import Question

    found = []
    published = reports.public_initiatives() if hasattr(reports, "public_initiatives") else None
    if published is None:
        return found
    if hasattr(reports, "stages_by"):
        found.append(
            (
                "maturity pipeline: stages by sector",
                lambda: reports.stages_by(published, "sector"),
                """SELECT sector_id, stage, count(*) FROM initiatives_initiative
                   WHERE review_status = 'published' AND archived_at IS NULL
                   GROUP BY sector_id, stage""",
                {},
            )
        )
    if hasattr(reports, "conversion"):
        found.append(
            (
                "maturity pipeline: conversion of pilots",
                lambda: reports.conversion(published),
                """SELECT i.stage, count(*) FROM initiatives_initiative i
                   WHERE i.review_status = 'published' AND i.archived_at IS NULL
                     AND EXISTS (SELECT 1 FROM initiatives_stagechange c
                                 WHERE c.initiative_id = i.id AND c.to_stage = 'pilot')
                   GROUP BY i.stage""",
                {},
            )
        )
    if hasattr(reports, "time_to_embedding"):
        found.append(
            (
                "maturity pipeline: time from pilot to embedded",
                lambda: reports.time_to_embedding(published),
                """WITH firsts AS (
                     SELECT c.initiative_id,
                            min(c.changed_on) FILTER (WHERE c.to_stage = 'pilot') AS piloted,
                            min(c.changed_on) FILTER (WHERE c.to_stage = 'embedded') AS embedded
                     FROM initiatives_stagechange c
                     JOIN initiatives_initiative i ON i.id = c.initiative_id
                     WHERE i.review_status = 'published' AND i.archived_at IS NULL
                     GROUP BY c.initiative_id)
                   SELECT i.sector_id,
                          percentile_cont(ARRAY[0.25, 0.5, 0.75])
                            WITHIN GROUP (ORDER BY f.embedded - f.piloted)
                   FROM firsts f JOIN initiatives_initiative i ON i.id = f.initiative_id
                   WHERE f.embedded >= f.piloted
                   GROUP BY ROLLUP (i.sector_id)""",
                {},
            )
        )
    if hasattr(reports, "beyond_piloting"):
        found.append(
            (
                "maturity pipeline: beyond piloting",
                lambda: reports.beyond_piloting(published),
                # Every figure of the table: for each country the sectors beyond piloting
                # and in all, its initiatives and embedded ones, and each sector's state
                # (embedded, pilots only, other) follow from these cells by addition.
                """SELECT country_id, sector_id, count(*),
                          count(*) FILTER (WHERE stage = 'embedded'),
                          count(*) FILTER (WHERE stage = 'pilot')
                   FROM initiatives_initiative
                   WHERE review_status = 'published' AND archived_at IS NULL
                   GROUP BY country_id, sector_id""",
                {},
            )
        )
    if hasattr(reports, "maturity_against_indicators"):
        question = Question.objects.get(code="factors")
        found.append(
            (
                f"maturity against indicators ({wave.code}, factors)",
                lambda: reports.maturity_against_indicators(
                    published, wave=wave, question=question
                ),
                """SELECT t.item_id,
                          count(*) FILTER (WHERE i.stage = 'embedded'),
                          count(*) FILTER (WHERE i.stage = 'pilot')
                   FROM initiatives_initiative i
                   JOIN initiatives_initiative_factors t ON t.initiative_id = i.id
                   WHERE i.review_status = 'published' AND i.archived_at IS NULL
                   GROUP BY t.item_id
                   UNION ALL
                   SELECT NULL, count(*) FILTER (WHERE stage = 'embedded'),
                          count(*) FILTER (WHERE stage = 'pilot')
                   FROM initiatives_initiative
                   WHERE review_status = 'published' AND archived_at IS NULL;
                   """
                + INDICATOR_SQL,
                # The survey side of the report: the indicator aggregate for the same question.
                {"wave": wave.pk, "question": question.pk},
            )
        )
    return found


def materialise(value):
    """Make sure lazy results are computed, as a template would."""
    if hasattr(value, "__iter__") and not isinstance(value, str | bytes | dict):
        return list(value)
    return value


def main():
    scale = scale_from_argv()
    django_setup(scale, "large")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    results = {}
    for name, report, sql, params in cases():
        try:
            with CaptureQueriesContext(connection) as captured:
                materialise(report())  # warm, and keep the SQL it sends
        except Exception as exc:
            results[name] = {"skipped": f"{type(exc).__name__}: {exc}"}
            continue
        app_times, sql_times = [], []
        for _ in range(REPEAT):
            started = time.perf_counter()
            materialise(report())
            app_times.append(time.perf_counter() - started)
            with connection.cursor() as cursor:
                started = time.perf_counter()
                for statement in sql.split(";"):
                    if statement.strip():
                        cursor.execute(statement, params if "%(" in statement else None)
                        cursor.fetchall()
                sql_times.append(time.perf_counter() - started)
        plans = []
        with connection.cursor() as cursor:
            for query in captured.captured_queries:
                text = query["sql"]
                if not text.lstrip().upper().startswith("SELECT"):
                    continue
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + text)
                plans.append({"sql": text, "plan": [row[0] for row in cursor.fetchall()]})
        app, floor = statistics.median(app_times), statistics.median(sql_times)
        results[name] = {
            "app_s": round(app, 4),
            "sql_s": round(floor, 4),
            "ratio": round(app / floor, 2),
            "queries": len(captured.captured_queries),
            "holds": app / floor <= LIMIT,
            "hand_sql": " ".join(sql.split()),
            "plans": plans,
        }
        print(f"{name}: app {app:.3f} s, SQL {floor:.3f} s, x{app / floor:.2f}", flush=True)
    save(scale, "goal5", {"limit": LIMIT, "repeat": REPEAT, "reports": results})


if __name__ == "__main__":
    main()
