"""Goal 7 (issue "survey data as survey tools deliver it"): wide files, jobs, waves compared.

    python bench/goal7_wide_and_jobs.py [--rows 100000] [--database-url postgres://...]

Measures, on PostgreSQL, in a throwaway database it migrates itself (default
`coprod_bench_goal7` next to DATABASE_URL's server):

1. A wide file of ROWS respondent-sector rows x 12 item columns against the long file of
   the same answers (ROWS x 12 rows): wall time of `manage.py import_survey` for each, and the
   wide import's peak memory at ROWS/2 and ROWS (flat in the file's size).
2. The same wide import run as a background job (`survey.jobs.execute_job`: the Job row,
   the heartbeat thread, the progress writes) against the import called directly.
3. The waves compared report over ROWS x 10 answers in 5 waves against a hand-written SQL
   aggregate of the same numbers.

Each import runs in its own process on emptied survey tables. Prints the numbers and writes
them to bench/results/goal7.json; bench/RESULTS.md quotes a run.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
ITEMS = [
    ("reasons", ("involvement", "quality", "costs", "satisfaction")),
    ("barriers", ("resources", "resistance", "incentives", "evidence")),
    ("factors", ("leadership", "engagement", "frameworks", "skills")),
]
COUNTRIES = ("FIN", "CAN", "FRA", "DEU", "ESP")


def ticked(respondent, sector, column):
    return (respondent * 7 + int(sector) * 3 + column * 5) % 3 == 0


def write_files(rows, wave):
    """The same answers as a wide file and as a long file; every pair answers everything."""
    DATA.mkdir(parents=True, exist_ok=True)
    wide, long = DATA / f"goal7-wide-{rows}.csv", DATA / f"goal7-long-{rows}.csv"
    if wide.exists() and long.exists():
        return wide, long
    columns = [(q, i) for q, items in ITEMS for i in items]
    with open(wide, "w") as w, open(long, "w") as out:
        w.write("respondent,country,sector," + ",".join(f"{q}/{i}" for q, i in columns) + "\n")
        out.write("wave,country,respondent,sector,question,item,answer\n")
        for n in range(rows):
            respondent, sector = n // 2, ("03", "07")[n % 2]
            country = COUNTRIES[respondent % len(COUNTRIES)]
            cells = []
            for index, (question, item) in enumerate(columns):
                yes = ticked(respondent, sector, index)
                cells.append("1" if yes else "0")
                answer = "yes" if yes else "no"
                out.write(f"{wave},{country},r{respondent},{sector},{question},{item},{answer}\n")
            w.write(f"r{respondent},{country},{sector}," + ",".join(cells) + "\n")
    return wide, long


def manage(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=check,
        capture_output=True,
        text=True,
    )


def empty_tables(url):
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE survey_response, survey_respondent, survey_job")
        conn.execute("DELETE FROM survey_wave WHERE code LIKE 'G7-%'")
        conn.execute("VACUUM ANALYZE survey_response")


def timed_child(env, code):
    """Run `code` (which sets `seconds`) in a Django child; returns (seconds, peak RSS MB)."""
    code += (
        "\nimport json, resource\n"
        "print(json.dumps({'seconds': seconds, "
        "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = (
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    measured = json.loads(out)
    return measured["seconds"], measured["peak_mb"]


SETUP = "import django, os, time; django.setup()\n"


def import_code(path, *, mapping=None, wave, job=False):
    if job:
        return SETUP + (
            "from django.core.files import File\n"
            "import uuid\n"
            "from django.contrib.auth import get_user_model\n"
            "from survey.uploads import keep_upload\n"
            "from survey.jobs import execute_job, survey_import_start\n"
            "from survey.models import Job\n"
            "owner = get_user_model().objects.create(username=f'bench-{uuid.uuid4().hex}')\n"
            f"key = keep_upload(File(open({str(path)!r}, 'rb'), name='f.csv'), owner=owner)\n"
            f"job = survey_import_start(owner=owner, upload_key=key, mapping={mapping!r}, "
            f"wave={wave!r}, create_wave=True)\n"
            "start = time.perf_counter()\n"
            "execute_job(job.pk)\n"
            "seconds = time.perf_counter() - start\n"
            "job = Job.objects.get(pk=job.pk)\n"
            "assert job.outcome.get('ok'), (job.message, job.outcome)\n"
        )
    return SETUP + (
        "from survey.imports import import_survey\n"
        "start = time.perf_counter()\n"
        f"result = import_survey({str(path)!r}, mapping={mapping!r}, wave={wave!r}, "
        "create_wave=True)\n"
        "seconds = time.perf_counter() - start\n"
        "assert result.ok, result.errors\n"
    )


WAVES_CODE = """
import json, time
from django.db import connection
from survey.models import Question, Wave, Response
from survey.reports import wave_comparison

waves = list(Wave.objects.filter(code__startswith="G7-W").order_by("code"))
question = Question.objects.get(code="barriers")


def best(function, times=5):
    function()
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


items = list(question.items.all())
counts = ", ".join(
    f"COUNT(*) FILTER (WHERE s.item_id = {i.pk} AND s.affirmative), "
    f"COUNT(*) FILTER (WHERE s.item_id = {i.pk})"
    for i in items
)
sql = (
    "SELECT r.wave_id, COUNT(DISTINCT r.id * 100 + s.sector_id::int), " + counts
    + " FROM survey_response s JOIN survey_respondent r ON r.id = s.respondent_id"
    " JOIN survey_item i ON i.id = s.item_id WHERE i.question_id = %s"
    " AND r.wave_id = ANY(%s) GROUP BY r.wave_id"
)


def hand():
    with connection.cursor() as cursor:
        cursor.execute(sql, [question.pk, [w.pk for w in waves]])
        cursor.fetchall()


report = best(lambda: wave_comparison(question=question, waves=waves))
floor = best(hand)
print(json.dumps({"answers": Response.objects.count(), "report": report, "sql": floor}))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "GOAL7_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coprod_bench_goal7"
        ),
    )
    args = parser.parse_args()
    import psycopg

    name = args.database_url.rsplit("/", 1)[1]
    server = args.database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SECRET_KEY": "bench",
        "DJANGO_SETTINGS_MODULE": "coprod_site.settings",
        "MEDIA_ROOT": str(DATA / "goal7-media"),
        "PYTHONPATH": str(ROOT),
    }
    manage(env, "migrate", "--noinput", "-v0")
    rows = args.rows
    result = {"rows": rows, "answers": rows * 12}

    # 1. Wide against long, and the wide import's memory at half the size.
    half_wide, _ = write_files(rows // 2, "G7-LONG")
    wide, long = write_files(rows, "G7-LONG")
    empty_tables(args.database_url)
    result["long_seconds"], result["long_peak_mb"] = timed_child(env, import_code(long, wave=None))
    empty_tables(args.database_url)
    result["wide_seconds"], result["wide_peak_mb"] = timed_child(
        env, import_code(wide, wave="G7-WIDE")
    )
    empty_tables(args.database_url)
    _seconds, result["wide_half_peak_mb"] = timed_child(env, import_code(half_wide, wave="G7-HALF"))
    result["wide_over_long"] = result["wide_seconds"] / result["long_seconds"]

    # 2. The same wide import as a background job.
    empty_tables(args.database_url)
    result["job_seconds"], _ = timed_child(env, import_code(wide, wave="G7-JOB", job=True))
    result["job_overhead"] = result["job_seconds"] / result["wide_seconds"] - 1

    # 3. Waves compared over 5 waves.
    empty_tables(args.database_url)
    per_wave = rows // 6 // 2 * 2  # 5 waves x 12 columns: ROWS x 10 answers
    for number in range(5):
        path, _ = write_files(per_wave, "unused")
        timed_child(env, import_code(path, wave=f"G7-W{number}"))
    code = SETUP + WAVES_CODE
    out = (
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    waves = json.loads(out)
    result["waves_answers"] = waves["answers"]
    result["waves_report_seconds"] = waves["report"]
    result["waves_sql_seconds"] = waves["sql"]
    result["waves_over_sql"] = waves["report"] / waves["sql"]
    empty_tables(args.database_url)

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "goal7.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
