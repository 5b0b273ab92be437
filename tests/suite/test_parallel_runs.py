"""The suite under pytest-xdist: a worker runs whole files in the order it is handed them, so
an ordinary test may run after another file's transactional test, whose flush empties every
table. The migrations' data must be there all the same."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TRANSACTIONAL_FIRST = """
import pytest
from survey.models import Country


@pytest.mark.django_db
def test_ordinary():
    assert Country.objects.filter(pk="FIN").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_transactional():
    Country.objects.filter(pk="FIN").delete()
"""

CONFTEST = """
from tests.conftest import _db_blocker_for_hooks, pytest_runtest_teardown  # noqa: F401
"""

ORDINARY_AFTER = """
import pytest
from survey.models import Country


@pytest.mark.django_db
def test_vocabulary_is_there():
    assert Country.objects.filter(pk="FIN").exists()
"""


@pytest.mark.slow
def test_an_ordinary_test_after_another_files_transactional_test_finds_the_vocabulary(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_a_transactional.py").write_text(TRANSACTIONAL_FIRST)
    (tmp_path / "test_b_ordinary.py").write_text(ORDINARY_AFTER)
    # One worker: pytest-django puts test_transactional after test_vocabulary_is_there in the
    # collection, but --dist loadfile hands the worker all of the first file, then the second.
    # SQLite in memory whatever the outer run uses: a PostgreSQL run would name its test
    # database after the worker, as the outer run's first worker does.
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["PYTHONPATH"] = str(ROOT)
    finished = subprocess.run(  # noqa: S603 - our own interpreter and pytest
        [
            *(sys.executable, "-m", "pytest", str(tmp_path)),
            *("-n", "1", "--dist", "loadfile", "-v", "-p", "no:cacheprovider"),
            *("--rootdir", str(tmp_path), "-c", os.devnull),
            *("--ds", "coprod_site.settings", "-o", "python_files=test_*.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    order = [line for line in finished.stdout.splitlines() if "PASSED" in line]
    assert [line.split("::")[-1].split()[0] for line in order] == [
        "test_ordinary",
        "test_transactional",
        "test_vocabulary_is_there",
    ], finished.stdout + finished.stderr
    assert finished.returncode == 0, finished.stdout + finished.stderr
