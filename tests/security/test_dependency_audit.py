"""The CI step that judges pip-audit's report fails on a vulnerability and only then."""

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_dependencies.py"


@pytest.fixture
def judge(monkeypatch):
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def with_report(report):
        def fake_run(command, **kwargs):
            output = Path(command[command.index("--output") + 1])
            output.write_text(json.dumps(report))

            class Done:
                returncode = 1 if any(d.get("vulns") for d in report["dependencies"]) else 0
                stdout = stderr = ""

            return Done()

        monkeypatch.setattr(module.subprocess, "run", fake_run)
        return module.main()

    return with_report


def test_a_reported_vulnerability_fails_the_step(judge, capsys):
    report = {
        "dependencies": [
            {
                "name": "django",
                "version": "5.2.0",
                "vulns": [{"id": "PYSEC-1", "fix_versions": ["5.2.1"]}],
            },
            {"name": "whitenoise", "version": "6.7", "vulns": []},
        ]
    }
    assert judge(report) == 1
    assert "VULNERABLE django 5.2.0: PYSEC-1" in capsys.readouterr().out


def test_a_clean_report_passes(judge):
    assert judge({"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}]}) == 0


def test_an_unreachable_database_passes_with_a_loud_warning(judge, capsys):
    report = {"dependencies": [{"name": "django", "skip_reason": "not found on PyPI"}]}
    assert judge(report) == 0
    out = capsys.readouterr().out
    assert "WARNING" in out
    assert "could NOT be audited" in out
