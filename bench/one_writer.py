"""One CSV writer per export, against the COPY writer it replaced, side by side.

    python bench/one_writer.py [--copy-commit COMMIT] [--repeat N]

Until 2026-12 each big export had two writers: Python's (SQLite) and PostgreSQL's
`COPY (SELECT ...) TO STDOUT WITH CSV`, kept byte-identical by tests. This script measures
the single writer (this checkout) beside the COPY writer as it stood at COPY_COMMIT, on the
same database, turn by turn, each download read to the end in a fresh process through the
whole stack (`export_child.py`: Django's test client, the staff user). It checks that both
wrote the same bytes, and reports the ratio the rule "one writer if it stays within 2x
(survey records) and 3x (initiatives) of COPY" is about.

DATABASE_URL names the database (filled by `manage.py generate_scale_data`, with the
`bench-staff` superuser of `prepare.py`); the default is the large benchmark database.
Prints one JSON line per export and saves them to bench/results/one_writer.json.
"""

import json
import os
import statistics
import sys
from pathlib import Path

from common import BENCH, DJANGO_ENV, PYTHON, RESULTS, database_url, load_average, run, snapshot

#: The last commit whose exports were written by COPY on PostgreSQL.
COPY_COMMIT = "38071cc"
LIMITS = {"survey records": 2.0, "initiatives": 3.0}
EXPORTS = {
    "survey records": "/admin/survey/response/export/",
    "initiatives": "/initiatives/export.csv",
}


def _argument(name, default):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def download(source, path, database):
    """One download in a fresh process importing only `source`'s files."""
    env = dict(os.environ)
    env.update(DJANGO_ENV)
    env["DATABASE_URL"] = database
    # The download itself, not the background job that takes over past this many records.
    env["JOB_EXPORT_ROWS"] = "100000000"
    env["BENCH_SRC"] = str(source)
    env["PYTHONPATH"] = f"{source}{os.pathsep}{BENCH / 'isolate'}"
    _, done = run(
        [PYTHON, str(BENCH / "export_child.py"), "-", "-", path, "staff"], env=env, timeout=3600
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    database = os.environ.get("DATABASE_URL") or database_url("full", "large")
    repeat = int(_argument("--repeat", 3))
    copy_source, copy_sha = snapshot(_argument("--copy-commit", COPY_COMMIT))
    one_source = Path(os.environ.get("BENCH_SRC", BENCH.parent))
    results = {}
    for name, path in EXPORTS.items():
        one, copy = [], []
        for _ in range(repeat):  # turn by turn, so that a change in the machine's load hits both
            copy.append(download(copy_source, path, database))
            one.append(download(one_source, path, database))
        one_s = statistics.median(taken["total_s"] for taken in one)
        copy_s = statistics.median(taken["total_s"] for taken in copy)
        results[name] = {
            "rows": one[0]["rows"],
            "bytes": one[0]["bytes"],
            "same_bytes": {taken["sha256"] for taken in one + copy} == {one[0]["sha256"]},
            "one_writer_s": one_s,
            "one_writer_runs_s": [taken["total_s"] for taken in one],
            "one_writer_cpu_s": statistics.median(taken["cpu_s"] for taken in one),
            "one_writer_first_byte_s": statistics.median(taken["first_byte_s"] for taken in one),
            "one_writer_peak_rss_mb": max(taken["peak_rss_mb"] for taken in one),
            "copy_s": copy_s,
            "copy_runs_s": [taken["total_s"] for taken in copy],
            "copy_cpu_s": statistics.median(taken["cpu_s"] for taken in copy),
            "copy_first_byte_s": statistics.median(taken["first_byte_s"] for taken in copy),
            "copy_peak_rss_mb": max(taken["peak_rss_mb"] for taken in copy),
            "ratio": round(one_s / copy_s, 2),
            "limit": LIMITS[name],
            "load_average": load_average(),
        }
        print(json.dumps({name: results[name]}), flush=True)
    RESULTS.mkdir(exist_ok=True)
    summary = {"copy_commit": copy_sha, "database": database.rsplit("/", 1)[-1], **results}
    (RESULTS / "one_writer.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
