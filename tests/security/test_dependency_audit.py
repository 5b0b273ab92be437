"""The CI step that judges pip-audit's report: a vulnerability fails it, a package that could
not be looked up is recorded as not audited, never counted as a pass."""

import importlib.util
import json
from pathlib import Path

import pytest
from packaging.version import Version
from pip_audit._format import JsonFormat
from pip_audit._service import ResolvedDependency, SkippedDependency, VulnerabilityResult

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit_dependencies.py"


@pytest.fixture(scope="module")
def audit():
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pip_audit_report(results):
    """A report written by pip-audit's own JSON formatter, as `--format json` writes it."""
    return json.loads(JsonFormat(output_desc=True, output_aliases=True).format(results, []))


def vulnerability(identifier, fixed):
    return VulnerabilityResult(
        id=identifier,
        description="A crafted request ...",
        fix_versions=[Version(fixed)],
        aliases={"CVE-2025-0001"},
        published=None,
    )


def test_a_vulnerable_package_in_a_real_report_fails_the_step(audit):
    report = pip_audit_report(
        {
            ResolvedDependency("Django", Version("5.2.0")): [vulnerability("PYSEC-1", "5.2.1")],
            ResolvedDependency("whitenoise", Version("6.7")): [],
        }
    )
    verdict = audit.judge(report)
    assert verdict.exit_code == 1
    assert verdict.status == audit.VULNERABLE
    assert "VULNERABLE django 5.2.0: PYSEC-1 (5.2.1)" in verdict.lines


def test_a_clean_real_report_passes_as_audited(audit):
    report = pip_audit_report({ResolvedDependency("Django", Version("5.2.9")): []})
    verdict = audit.judge(report)
    assert (verdict.exit_code, verdict.status, verdict.audited) == (0, audit.AUDITED, 1)


def test_packages_that_could_not_be_looked_up_are_not_audited(audit):
    report = pip_audit_report(
        {SkippedDependency("Django", "Dependency not found on PyPI and could not be audited"): []}
    )
    verdict = audit.judge(report)
    assert verdict.status == audit.NOT_AUDITED
    assert verdict.exit_code == 0
    assert any("NOT AUDITED" in line for line in verdict.lines)


def test_a_partly_skipped_report_names_what_was_not_audited(audit):
    report = pip_audit_report(
        {
            ResolvedDependency("whitenoise", Version("6.7")): [],
            SkippedDependency("rules", "not found"): [],
        }
    )
    verdict = audit.judge(report)
    assert verdict.status == audit.PARTLY_AUDITED
    assert verdict.skipped == ["rules"]
    assert "not audited: rules" in verdict.lines


def test_the_real_pip_audit_run_is_judged_and_recorded(audit, tmp_path, capsys):
    """pip-audit itself, on a Django release with published advisories: either the database
    answers and the step fails, or it cannot be reached and the record says "not audited"."""
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django==5.2.0\n")
    record = tmp_path / "audit.json"
    exit_code = audit.main(
        ["--record", str(record), "--", "-r", str(requirements), "--no-deps", "--disable-pip"]
    )
    recorded = json.loads(record.read_text())
    assert recorded["status"] in (audit.NOT_AUDITED, audit.VULNERABLE)
    assert exit_code == (1 if recorded["status"] == audit.VULNERABLE else 0)
    assert f"dependency audit: {recorded['status']}" in capsys.readouterr().out
