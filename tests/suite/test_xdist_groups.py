"""How `make test` shares the suite between its pytest-xdist workers: each file goes to one
worker whole (`--dist loadgroup`, one group a file), but for the tables that
`SPLIT_ACROSS_WORKERS` spreads, and the slow files are handed out first."""

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Quick files of plain functions, with enough tests that a spread would reach both workers.
WHOLE = ["tests/core/test_numbers.py", "tests/core/test_tables.py"]


def pytest(*arguments):
    result = subprocess.run(  # noqa: S603 -- our own interpreter, our own arguments
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *arguments],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return result.stdout


def test_each_file_runs_whole_on_one_worker():
    output = pytest("-n", "2", "--dist", "loadgroup", "-v", *WHOLE)
    workers = defaultdict(set)
    for worker, path in re.findall(r"^\[(gw\d+)\] \[[ \d]+%\] PASSED (\S+?)::", output, re.M):
        workers[path].add(worker)
    assert set(workers) == set(WHOLE)
    assert all(len(names) == 1 for names in workers.values()), dict(workers)


def test_the_slow_files_are_handed_out_first():
    slow = "tests/initiatives/test_seed_demo.py"
    listed = pytest("--collect-only", "-q", "tests/core/test_numbers.py", slow)
    files = [line.split("::", 1)[0] for line in listed.splitlines() if "::" in line]
    assert files[0] == slow
    assert files[-1] == "tests/core/test_numbers.py"
