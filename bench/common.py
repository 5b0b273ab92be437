"""What every benchmark script shares: where things are, the databases, timing, memory.

The benchmarks use their own PostgreSQL databases (`coprod_bench_*`, or another prefix named
by BENCH_DB_PREFIX) on the server named by BENCH_PG (default
postgres://postgres@127.0.0.1:5432), created and dropped here and nowhere
else. Results go to `bench/results/<scale>/<goal>.json`; `bench/report.py` turns them into
`bench/RESULTS.md`.
"""

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The source tree that is measured: this checkout, or a snapshot of a commit (see snapshot()).
SRC = Path(os.environ.get("BENCH_SRC", ROOT))
BENCH = ROOT / "bench"
DATA = BENCH / "data"  # generated files; git-ignored
RESULTS = BENCH / "results"
PYTHON = sys.executable

SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
# The start of every benchmark database's name; another prefix (BENCH_DB_PREFIX, which must
# start with "coprod_") keeps a second run on the same server apart from the first.
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "coprod_bench")
if not DB_PREFIX.startswith("coprod_"):
    raise SystemExit(f"BENCH_DB_PREFIX must start with 'coprod_', not {DB_PREFIX!r}")

# Three data sets per scale: the small one is the baseline of "pages don't grow", the middle
# one the 100k-row point of "memory grows by less than 20%", the large one national scale.
SCALES = {
    "full": {
        "small": (1_000, 10_000),
        "mid": (10_000, 100_000),
        "large": (100_000, 1_000_000),
    },
    "quick": {
        "small": (100, 1_000),
        "mid": (1_000, 10_000),
        "large": (10_000, 100_000),
    },
}
SEED = 1

# Settings for the Django processes the benchmarks start: production-like (DEBUG off).
DJANGO_ENV = {
    "SECRET_KEY": "bench-only-not-a-secret",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "STATIC_ROOT": str(DATA / "static"),
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    # The throttles protect a public server from one client; the load test *is* one client.
    "API_THROTTLE_ANON": "100000000/minute",
    "API_THROTTLE_USER": "100000000/minute",
    "AXES_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "coprod_site.settings",
}

BENCH_USER = "bench-staff"


def database_name(scale, size):
    return f"{DB_PREFIX}_{scale}_{size}"


def database_url(scale, size):
    return f"{SERVER}/{database_name(scale, size)}"


def env_for(scale, size, **extra):
    env = dict(os.environ)
    env.update(DJANGO_ENV)
    env["DATABASE_URL"] = database_url(scale, size)
    env["PYTHONPATH"] = str(SRC) if SRC == ROOT else f"{SRC}{os.pathsep}{BENCH / 'isolate'}"
    env["BENCH_SRC"] = str(SRC)
    env.update(extra)
    return env


def django_setup(scale, size):
    """Configure Django in this process for one benchmark database."""
    os.environ.update(env_for(scale, size))
    sys.path.insert(0, str(SRC))
    if SRC != ROOT:  # as bench/isolate/sitecustomize.py does for the child processes
        sys.meta_path[:] = [f for f in sys.meta_path if "_EditableFinder" not in repr(f)]
    import django

    django.setup()


def psycopg_connect(scale=None, size=None, dbname=None):
    import psycopg

    name = dbname or database_name(scale, size)
    return psycopg.connect(f"{SERVER}/{name}", autocommit=True)


def run(args, *, env=None, timeout=3600, check=True, capture=True):
    """Run a command from the project folder; returns (seconds, completed process)."""
    started = time.perf_counter()
    done = subprocess.run(
        args,
        cwd=SRC,
        env=env,
        timeout=timeout,
        check=False,
        capture_output=capture,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, args))} failed ({done.returncode}):\n"
            f"{(done.stdout or '')[-3000:]}\n{(done.stderr or '')[-3000:]}"
        )
    return elapsed, done


def child_json(script_args, *, scale, size, timeout=1800, extra_env=None):
    """Run a Python script in a separate process on one database; it prints one JSON line."""
    script, *args = script_args
    _, done = run(
        [PYTHON, str(BENCH / Path(script).name), *args],
        env=env_for(scale, size, **(extra_env or {})),
        timeout=timeout,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_kb(field, pid="self"):
    """A field of /proc/<pid>/status in kB: VmHWM is the peak resident set, VmRSS the current."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def reset_peak_memory(pid="self"):
    """Reset VmHWM to the current RSS (Linux >= 4.0), so a peak belongs to one request."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def load_average():
    return [round(x, 2) for x in os.getloadavg()]


def other_load():
    """The busiest processes that are not ours, to say how shared the machine was."""
    out = subprocess.run(
        ["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [" ".join(line.split()) for line in out.splitlines()[:5]]


def machine():
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = memory_kb_total()
    with psycopg_connect(dbname="postgres") as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(
            conn.execute(
                "SELECT name, setting || coalesce(unit, '') FROM pg_settings WHERE name IN "
                "('shared_buffers', 'work_mem', 'effective_cache_size', 'max_parallel_workers')"
            ).fetchall()
        )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "postgresql": pg,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "load_average": load_average(),
    }


def memory_kb_total():
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def timed(function, repeat=5, warmup=1):
    """Median, min and all wall times of `function()` in seconds."""
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "min": min(times), "times": times}


@contextmanager
def stopwatch():
    box = {}
    started = time.perf_counter()
    try:
        yield box
    finally:
        box["seconds"] = time.perf_counter() - started


def save(scale, goal, result):
    folder = RESULTS / scale
    folder.mkdir(parents=True, exist_ok=True)
    result = {
        "measured_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "commit": source_commit(),
        "load_average": load_average(),
        **result,
    }
    (folder / f"{goal}.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    return result


def load(scale, goal):
    path = RESULTS / scale / f"{goal}.json"
    return json.loads(path.read_text()) if path.exists() else None


def snapshot(commit="HEAD"):
    """Export a commit's files to bench/data/src-<hash>, to measure exactly what was committed
    while the working tree changes under other hands."""
    sha = subprocess.run(
        ["git", "rev-parse", "--short", commit], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    target = DATA / f"src-{sha}"
    if not target.exists():
        target.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", commit], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target, sha


def source_commit():
    """The commit measured, for the record."""
    if SRC != ROOT:
        return SRC.name.removeprefix("src-")
    sha = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return sha + ("+uncommitted" if dirty else "")


def scale_from_argv():
    return "quick" if "--quick" in sys.argv else "full"


# The survey file's seven columns as plain text, for the import floor.
SURVEY_TEXT_COLUMNS = (
    "(wave text, country text, respondent text, sector text, question text, item text, answer text)"
)


def copy_file(cursor, statement, path):
    """Send the file at `path` through `statement` (a `COPY ... FROM STDIN`), 1 MiB at a time."""
    with open(path, "rb") as stream, cursor.copy(statement) as copy:
        while block := stream.read(1 << 20):
            copy.write(block)


def plain_copy_seconds(conn, path):
    """The import floor: seconds to COPY the survey file at `path` into a plain table of
    seven text columns (no index, no check), made for the purpose and dropped after."""
    conn.execute("DROP TABLE IF EXISTS copy_floor")
    conn.execute(f"CREATE TABLE copy_floor {SURVEY_TEXT_COLUMNS}")
    started = time.perf_counter()
    with conn.cursor() as cursor:
        copy_file(cursor, "COPY copy_floor FROM STDIN WITH (FORMAT csv, HEADER true)", path)
    seconds = time.perf_counter() - started
    conn.execute("DROP TABLE copy_floor")
    return seconds


# Rows already resolved to ids, straight into the survey's records table.
COPY_RESPONSES = "COPY survey_response (respondent_id, sector_id, item_id, affirmative) FROM STDIN"
