"""Goal 3: importing a 1M-row survey file within 3x of PostgreSQL's `COPY ... FROM`.

    python bench/goal3_import_floor.py [--quick]

The file comes from the survey benchmark's own generator (bench/survey_generate.py). The
import (`manage.py import_survey --create-wave`, validation included) runs in a fresh copy
of the small database each time; the floor is `COPY plain FROM STDIN WITH CSV HEADER` of the
same file into a plain 7-column text table, with no validation and no index.

To measure on databases of your own rather than the benchmark's, name the template to copy
(a migrated database) and the throwaway copy; the result is then printed, not saved:

    GOAL3_TEMPLATE=my_base GOAL3_DATABASE=my_import python bench/goal3_import_floor.py
"""

import os
import statistics
import subprocess
import time

from common import (
    BENCH,
    COPY_RESPONSES,
    DATA,
    PYTHON,
    SCALES,
    SERVER,
    SRC,
    copy_file,
    database_name,
    env_for,
    plain_copy_seconds,
    psycopg_connect,
    save,
    scale_from_argv,
)

LIMIT = 3.0
# Databases of one's own (see the docstring); by default the benchmark's, per scale.
TEMPLATE = os.environ.get("GOAL3_TEMPLATE")
DATABASE = os.environ.get("GOAL3_DATABASE")
REPEAT = 2  # 1 at national scale, where one import takes minutes on a shared machine


def survey_file(rows):
    DATA.mkdir(exist_ok=True)
    path = DATA / f"survey-{rows}.csv"
    if not path.exists():
        subprocess.run(
            [PYTHON, str(BENCH / "survey_generate.py"), str(rows), "-o", str(path)],
            check=True,
        )
    return path


def template_name(scale):
    return TEMPLATE or database_name(scale, "small")


def import_name(scale):
    return DATABASE or database_name(scale, "import")


def fresh_copy(scale):
    """A throwaway copy of the small database, to import into."""
    name = import_name(scale)
    with psycopg_connect(dbname="postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name(scale)}"')
    return name


def import_once(scale, path):
    fresh_copy(scale)
    env = env_for(scale, "import")
    env["DATABASE_URL"] = f"{SERVER}/{import_name(scale)}"
    started = time.perf_counter()
    process = subprocess.Popen(
        [PYTHON, "manage.py", "import_survey", str(path), "--create-wave"],
        cwd=SRC,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out = process.stdout.read().decode()[-2000:]
    err = process.stderr.read().decode()[-2000:]
    if status != 0:
        raise RuntimeError(f"import_survey failed: {out}\n{err}")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "summary": out.strip().splitlines()[-1:] if out.strip() else [],
    }


def copy_into_responses(scale):
    """A second floor, after an import: the same rows COPYed straight into survey_response,
    with its indexes and deferred foreign-key checks (paid at COMMIT), and no validation."""
    with psycopg_connect(dbname=import_name(scale)) as conn:
        dump = DATA / "responses-dump.csv"
        with (
            conn.cursor() as cursor,
            open(dump, "wb") as stream,
            cursor.copy(
                "COPY (SELECT respondent_id, sector_id, item_id, affirmative FROM survey_response)"
                " TO STDOUT"
            ) as copy,
        ):
            for data in copy:
                stream.write(data)
        conn.execute("TRUNCATE survey_response")
        conn.execute("VACUUM ANALYZE survey_response")
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cursor:
            copy_file(cursor, COPY_RESPONSES, dump)
        seconds = time.perf_counter() - started
        dump.unlink()
    return seconds


def copy_once(scale, path):
    with psycopg_connect(dbname=import_name(scale)) as conn:
        return plain_copy_seconds(conn, path)


def main():
    scale = scale_from_argv()
    rows = SCALES[scale]["large"][1]
    path = survey_file(rows)
    repeat = 1 if scale == "full" else REPEAT
    imports = [import_once(scale, path) for _ in range(repeat)]
    into_table = copy_into_responses(scale)
    copies = [copy_once(scale, path) for _ in range(repeat)]
    with psycopg_connect(dbname="postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{import_name(scale)}" WITH (FORCE)')
    coprod = statistics.median(run["seconds"] for run in imports)
    floor = statistics.median(copies)
    result = {
        "rows": rows,
        "file_mb": round(path.stat().st_size / 1024 / 1024, 1),
        "import_runs": imports,
        "import_s": round(coprod, 2),
        "copy_s": round(floor, 2),
        "copy_runs_s": [round(c, 2) for c in copies],
        "ratio": round(coprod / floor, 2),
        "copy_into_survey_response_s": round(into_table, 2),
        "ratio_to_copy_into_survey_response": round(coprod / into_table, 2),
        "rows_per_s": round(rows / coprod),
        "limit": LIMIT,
        "holds": coprod / floor <= LIMIT,
    }
    print(result, flush=True)
    if not (TEMPLATE or DATABASE):
        save(scale, "goal3", result)


if __name__ == "__main__":
    main()
