"""Create the benchmark databases and fill them with `generate_scale_data`.

    python bench/prepare.py [--quick] [--fresh]

Each database is made once per size and seed and reused by later runs (new migrations are
applied to it); --fresh drops and regenerates. The time taken to generate is a result too.
"""

import sys

from common import (
    BENCH_USER,
    DB_PREFIX,
    PYTHON,
    SCALES,
    SEED,
    database_name,
    env_for,
    load,
    psycopg_connect,
    run,
    save,
    scale_from_argv,
)


def marker(initiatives, responses):
    return f"coprod bench: {initiatives} initiatives, {responses} responses, seed {SEED}"


def existing_marker(name):
    with psycopg_connect(dbname="postgres") as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    return row[0] if row else None


def prepare(scale, size, fresh):
    initiatives, responses = SCALES[scale][size]
    name = database_name(scale, size)
    env = env_for(scale, size)
    wanted = marker(initiatives, responses)
    if not fresh and existing_marker(name) == wanted:
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env)
        print(f"{name}: reused ({wanted})", flush=True)
        return None
    with psycopg_connect(dbname="postgres") as conn:
        # Only ever the benchmark's own databases, by their fixed names.
        assert name.startswith(DB_PREFIX + "_")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], env=env)
    seconds, done = run(
        [
            PYTHON,
            "manage.py",
            "generate_scale_data",
            f"--initiatives={initiatives}",
            f"--responses={responses}",
            f"--seed={SEED}",
        ],
        env=env,
    )
    run(
        [
            PYTHON,
            "manage.py",
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model as g; U = g(); "
            f"U.objects.filter(username='{BENCH_USER}').exists() or "
            f"U.objects.create_superuser('{BENCH_USER}', 'bench@example.org', None)",
        ],
        env=env,
    )
    with psycopg_connect(dbname="postgres") as conn:
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{wanted}'")
    with psycopg_connect(scale, size) as conn:
        size_bytes = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    print(f"{name}: generated in {seconds:.1f} s", flush=True)
    return {
        "initiatives": initiatives,
        "responses": responses,
        "seconds": round(seconds, 1),
        "database_mb": round(size_bytes / 1024 / 1024),
        "output": done.stdout.strip().splitlines(),
    }


def main():
    scale = scale_from_argv()
    fresh = "--fresh" in sys.argv
    generated = dict((load(scale, "generate") or {}).get("sizes", {}))
    fresh_sizes = False
    for size in SCALES[scale]:
        result = prepare(scale, size, fresh)
        if result:
            generated[size] = result
            fresh_sizes = True
    run(
        [PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"],
        env=env_for(scale, "small"),
    )
    if fresh_sizes:  # reused databases keep the record of when they were generated
        save(scale, "generate", {"sizes": generated})


if __name__ == "__main__":
    main()
