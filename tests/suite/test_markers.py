"""The markers CI selects by (`-m both_databases` on SQLite, `-m "not slow"` for the quick
loop) are given before pytest selects: a marker added too late selects nothing, and the
SQLite run would pass without running a test."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FILES = [
    "tests/core/test_typing.py",
    "tests/portal/test_french_pages.py",
    "tests/initiatives/test_seed_demo.py",
]


def collected(marker):
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(  # noqa: S603 -- our own interpreter, our own arguments
        [*command, "-m", marker, *FILES],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    return {line.split("::", 1)[0] for line in result.stdout.splitlines() if "::" in line}


def test_both_databases_selects_the_tests_of_what_differs_between_them():
    assert collected("both_databases") == {
        "tests/core/test_typing.py",
        "tests/initiatives/test_seed_demo.py",
    }


def test_not_slow_leaves_out_the_slow_files_only():
    assert collected("slow") == {"tests/initiatives/test_seed_demo.py"}
    assert collected("not slow") == set(FILES) - {"tests/initiatives/test_seed_demo.py"}
