"""Time the survey import and the indicator CSV on PostgreSQL, beside COPY ... FROM.

    python bench/survey_import.py [100000 1000000]

Uses its own database, coprod_bench_survey (dropped and re-created), on the server in
BENCH_PG (default postgres://postgres@127.0.0.1:5432). For each size it generates the file
(bench/survey_generate.py, fixed seed), then measures in separate processes:

- the floor: PostgreSQL's own COPY ... FROM STDIN (CSV) of the same file into a plain
  table of seven text columns, no checks;
- `manage.py import_survey FILE --create-wave --bulk` into an empty wave (validation, staging,
  set-based checks and the write), wall time and peak resident memory of the process;
- the same file imported again (every row unchanged);
- the indicator CSV for the imported wave, overall and by country (median of 5).

and writes the section "## Survey import and indicator CSV (issue 3)" of bench/RESULTS.md.
"""

import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from common import (
    COPY_RESPONSES,
    SURVEY_TEXT_COLUMNS,
    copy_file,
    plain_copy_seconds,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
SECTION = "## Survey import and indicator CSV (issue 3)"
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DATABASE = "coprod_bench_survey"
WAVE = "SYNTH-2024"
SEED = 2010
ENV = {
    **os.environ,
    "DATABASE_URL": f"{SERVER}/{DATABASE}",
    "SECRET_KEY": "bench-only-not-a-secret",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "testserver",
    "AXES_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "coprod_site.settings",
    # The indicator CSV is timed as computed, not as read back from the report cache.
    "REPORT_CACHE_SECONDS": "0",
}
CSV_CHILD = """
import statistics, sys, time
import django
django.setup()
from django.test import Client
client = Client()
for query in sys.argv[1:]:
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        response = client.get("/reports/indicators.csv?" + query)
        body = b"".join(response.streaming_content)
        assert response.status_code == 200, body
        runs.append(time.perf_counter() - started)
    print(round(statistics.median(runs) * 1000, 1), body.count(b"\\n") - 1)
"""


def run(args, **kwargs):
    return subprocess.run(
        args, cwd=ROOT, env=ENV, check=True, capture_output=True, text=True, **kwargs
    )


def connect(dbname=DATABASE):
    return psycopg.connect(f"{SERVER}/{dbname}", autocommit=True)


def fresh_database():
    with connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"])


def survey_file(rows):
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"survey-{rows}-seed{SEED}.csv"
    if not path.exists():
        run(
            [
                sys.executable,
                "bench/survey_generate.py",
                str(rows),
                "-o",
                str(path),
                "--seed",
                str(SEED),
                "--wave",
                WAVE,
            ]
        )
    return path


def copy_floor(path):
    with connect() as conn:
        return plain_copy_seconds(conn, path)


def schema_floor(path):
    """COPY of the same rows, already resolved to ids, into survey_response itself.

    What any importer must pay for the table's indexes and foreign keys (checked at
    COMMIT): the file is loaded and resolved untimed, then only the COPY into the real
    table and the COMMIT are timed. The rows are removed afterwards.
    """
    resolved = DATA / f"{path.stem}-resolved.tsv"
    with connect() as conn:
        conn.execute(
            "INSERT INTO survey_wave (code, title, year, synthetic, notes) "
            "VALUES ('FLOOR', 'floor', 2000, true, '')"
        )
        conn.execute(f"CREATE TEMP TABLE raw {SURVEY_TEXT_COLUMNS}")
        with conn.cursor() as cursor:
            copy_file(cursor, "COPY raw FROM STDIN WITH (FORMAT csv, HEADER true)", path)
        conn.execute(
            "INSERT INTO survey_respondent (wave_id, country_id, code) SELECT DISTINCT "
            "w.id, raw.country, raw.respondent FROM raw, survey_wave w WHERE w.code = 'FLOOR'"
        )
        with conn.cursor() as cursor, open(resolved, "wb") as out:
            query = (
                "COPY (SELECT r.id, raw.sector, i.id, raw.answer = 'yes' FROM raw "
                "JOIN survey_wave w ON w.code = 'FLOOR' "
                "JOIN survey_respondent r ON r.wave_id = w.id AND r.code = raw.respondent "
                "JOIN survey_question q ON q.code = raw.question "
                "JOIN survey_item i ON i.question_id = q.id AND i.code = raw.item) TO STDOUT"
            )
            with cursor.copy(query) as copy:
                for block in copy:
                    out.write(block)
        conn.execute("VACUUM ANALYZE survey_respondent")
    with psycopg.connect(f"{SERVER}/{DATABASE}") as conn:  # one transaction
        started = time.perf_counter()
        with conn.cursor() as cursor:
            copy_file(cursor, COPY_RESPONSES, resolved)
        conn.commit()
        seconds = time.perf_counter() - started
    resolved.unlink()
    wipe()
    with connect() as conn:
        conn.execute("DELETE FROM survey_wave WHERE code = 'FLOOR'")
    return seconds


def wipe():
    with connect() as conn:
        conn.execute("TRUNCATE survey_response, survey_respondent")
        conn.execute("DELETE FROM survey_wave WHERE code = %s", [WAVE])
        conn.execute("VACUUM ANALYZE")


def import_file(path, *options):
    """Wall time, peak RSS (MiB) and summary line of one import_survey process."""
    started = time.perf_counter()
    result = run(
        ["/usr/bin/time", "-v", sys.executable, "manage.py", "import_survey", str(path), *options]
    )
    seconds = time.perf_counter() - started
    peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)[1])
    return seconds, peak_kib / 1024, result.stdout.strip().splitlines()[-1]


def csv_timings():
    queries = [f"wave={WAVE}&question=barriers", f"wave={WAVE}&question=barriers&by=country"]
    out = run([sys.executable, "-c", CSV_CHILD, *queries]).stdout.split("\n")
    return [tuple(float(x) for x in line.split()) for line in out if line.strip()]


def measure(rows):
    path = survey_file(rows)
    load = [os.getloadavg()[0]]
    floors = [copy_floor(path) for _ in range(3)]
    floor = statistics.median(floors)
    wipe()
    table_floor = schema_floor(path)
    seconds, peak, summary = import_file(path, "--create-wave", "--bulk")
    again, again_peak, again_summary = import_file(path)
    csv = csv_timings()
    load.append(os.getloadavg()[0])
    return {
        "rows": rows,
        "file_mb": path.stat().st_size / 1024 / 1024,
        "floor_s": floor,
        "table_floor_s": table_floor,
        "import_s": seconds,
        "peak_mb": peak,
        "summary": summary,
        "again_s": again,
        "again_peak_mb": again_peak,
        "again_summary": again_summary,
        "csv_ms": csv[0][0],
        "csv_rows": int(csv[0][1]),
        "csv_by_country_ms": csv[1][0],
        "csv_by_country_rows": int(csv[1][1]),
        "load": load,
    }


def _span(values):
    low, high = min(values), max(values)
    return f"{low:.1f}" if round(low, 1) == round(high, 1) else f"{low:.1f} to {high:.1f}"


def section(results):
    with connect("postgres") as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    lines = [
        SECTION,
        "",
        f"`python bench/survey_import.py` on {time.strftime('%Y-%m-%d')}: PostgreSQL {version} on "
        f"the same machine ({os.cpu_count()} cores), database `{DATABASE}`, files from "
        f"`bench/survey_generate.py` (seed {SEED}). Each step is a separate process; the import "
        "time includes starting Django, reading and checking every row, the staging COPY, the "
        "whole-file checks and the INSERT ... SELECT, in one transaction. The floor is "
        "PostgreSQL's own `COPY ... FROM STDIN` (CSV) of the same file into a plain table of "
        "seven text columns, with no checks (median of 3).",
        "",
        "| rows | file | COPY floor | COPY into survey_response | import | import rows/s "
        "| import ÷ COPY floor | import ÷ COPY into survey_response | peak memory (import "
        "process) | re-import, all unchanged | indicator CSV | CSV by country |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['file_mb']:.0f} MB | {r['floor_s']:.2f} s "
            f"({r['rows'] / r['floor_s']:,.0f} rows/s) | {r['table_floor_s']:.2f} s | "
            f"{r['import_s']:.2f} s | {r['rows'] / r['import_s']:,.0f} | "
            f"{r['import_s'] / r['floor_s']:.1f}× | {r['import_s'] / r['table_floor_s']:.1f}× | "
            f"{r['peak_mb']:.0f} MiB | {r['again_s']:.2f} s ({r['again_peak_mb']:.0f} MiB) | "
            f"{r['csv_ms']:.0f} ms ({r['csv_rows']} rows) | "
            f"{r['csv_by_country_ms']:.0f} ms ({r['csv_by_country_rows']} rows) |"
        )
    lines += ["", "Import summaries:", ""]
    for r in results:
        lines.append(f"- {r['rows']:,} rows: {r['summary']} Again: {r['again_summary']}")
    loads = [load for r in results for load in r.get("load", [])]
    lines += [
        "",
        "Reading the figures:",
        "",
        f"- 1-minute load average {_span(loads)} on {os.cpu_count()} cores during the run; "
        "the machine may be shared with other work, so the ratios, taken in the same run, "
        "are the meaningful figures."
        if loads
        else "- Load average not recorded.",
        "- Most of the gap to the plain COPY is the table itself: `survey_response` has its "
        "primary key, a unique constraint, two more indexes and three foreign keys. Loading "
        "the same rows, already resolved to ids, with `COPY` straight into `survey_response` "
        "(column 4) pays for them row by row; a bulk import (`import_survey --bulk`) drops the "
        "key to the respondents and the two secondary indexes and builds them again once, so "
        "with every check it can take less than that COPY.",
        "- Peak memory stays flat from 100k to 1M rows: the importer keeps only the vocabulary "
        "(a few hundred codes) and one batch of staged rows in Python; duplicates, respondent "
        "countries and clashes with stored answers are found by queries on the staging table.",
        "- The indicator CSV is `survey.reports.indicator_rows`: one aggregate with "
        "`COUNT(DISTINCT respondent:sector)` over the question's responses in the wave, so it "
        "grows with the responses to that question (here a third of the file). It is timed "
        "as computed; the pages keep its result in the report cache until the data changes.",
        "",
    ]
    return "\n".join(lines)


def write_section(text):
    """Replace (or add) this benchmark's section, leaving the rest of RESULTS.md alone."""
    current = RESULTS_MD.read_text() if RESULTS_MD.exists() else "# Benchmark results\n\n"
    parts = re.split(r"(?m)^(?=## )", current)
    kept = [part for part in parts if not part.startswith(SECTION)]
    body = "".join(kept).rstrip() + "\n\n" + text.rstrip() + "\n"
    RESULTS_MD.write_text(body)


def main(argv=None):
    sizes = [int(n) for n in (argv or sys.argv[1:])] or [100_000, 1_000_000]
    fresh_database()
    results = []
    for rows in sizes:
        results.append(measure(rows))
        print(results[-1], flush=True)
    write_section(section(results))
    with connect("postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')


if __name__ == "__main__":
    main()
