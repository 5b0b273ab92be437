"""Run the benchmarks and write bench/RESULTS.md.

    python bench/run.py [--quick] [--snapshot] [--fresh] [--goals 1,2,3,4,5,6,8]

--quick uses a tenth of the data; --snapshot measures the last commit (exported to
bench/data/) instead of the working tree; --fresh regenerates the databases.
Each goal runs as its own process; one that fails is reported and the others still run.
"""

import os
import subprocess
import sys
import time

from common import BENCH, PYTHON, ROOT, load, machine, other_load, save, snapshot

GOALS = {
    "1": "goal1_export_memory.py",
    "2": "goal2_export_floor.py",
    "3": "goal3_import_floor.py",
    "4": "goal4_pages.py",
    "5": "goal5_reports.py",
    "6": "goal6_load.py",
    "8": "goal8_cached_load.py",
}


def main():
    args = sys.argv[1:]
    scale = "quick" if "--quick" in args else "full"
    goals = list(GOALS)
    if "--goals" in args:
        goals = args[args.index("--goals") + 1].split(",")
    env = dict(os.environ)
    commit = None
    if "--snapshot" in args:
        source, commit = snapshot()
        env["BENCH_SRC"] = str(source)
    flags = ["--quick"] if scale == "quick" else []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    previous = load(scale, "run") or {}
    record = {
        "started": started,
        "machine": machine(),
        "other_load": other_load(),
        "goals_run": goals,
        "failures": {},
    }
    if commit:
        record["commit"] = commit
    prepare = [PYTHON, str(BENCH / "prepare.py"), *flags]
    if "--fresh" in args:
        prepare.append("--fresh")
    subprocess.run(prepare, cwd=ROOT, env=env, check=True)
    for goal in goals:
        print(f"== goal {goal}: {GOALS[goal]}", flush=True)
        done = subprocess.run(
            [PYTHON, str(BENCH / GOALS[goal]), *flags], cwd=ROOT, env=env, check=False
        )
        if done.returncode:
            record["failures"][goal] = done.returncode
    record["finished"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    record["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if set(goals) != set(GOALS):
        # A partial run keeps the description of the run that measured the other goals.
        record["earlier_run"] = {k: previous.get(k) for k in ("started", "commit")}
    save(scale, "run", record)
    subprocess.run([PYTHON, str(BENCH / "report.py")], cwd=ROOT, env=env, check=True)
    return 1 if record["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
