"""Run pip-audit over the installed dependencies, judge its report and record the verdict.

- A known vulnerability in any package fails the step (exit 1).
- A package pip-audit could not look up (its vulnerability database unreachable, as on
  machines that reach package indexes only) is *not audited*. That is not a pass: the step
  prints a loud NOT AUDITED banner with the count and names, and records it, but does not
  fail, because nothing was found either.
- The verdict is written as JSON to `tests/artifacts/dependency-audit.json` (or `--record`),
  so a CI run keeps what was and was not audited.

`judge()` reads pip-audit's JSON report format (`pip-audit --format json`):
`{"dependencies": [{"name", "version", "vulns": [{"id", "fix_versions"}]} | {"name",
"skip_reason"}], "fixes": [...]}`.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
DEFAULT_RECORD = Path(__file__).resolve().parent.parent / "tests/artifacts/dependency-audit.json"

AUDITED = "audited"
PARTLY_AUDITED = "partly audited"
NOT_AUDITED = "not audited"
VULNERABLE = "vulnerable"


@dataclass
class Verdict:
    status: str
    exit_code: int
    audited: int = 0
    skipped: list[str] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


def _banner(text: str) -> list[str]:
    bar = "!" * 78
    return [bar, f"!! {text}", bar]


def judge(report: dict | None) -> Verdict:
    """The verdict on one pip-audit JSON report (None: pip-audit wrote no report)."""
    if report is None:
        return Verdict(NOT_AUDITED, 0, lines=_banner("NOT AUDITED: pip-audit produced no report."))
    dependencies = report.get("dependencies", [])
    skipped = sorted(d["name"] for d in dependencies if "skip_reason" in d)
    checked = [d for d in dependencies if "skip_reason" not in d]
    verdict = Verdict(AUDITED, 0, audited=len(checked), skipped=skipped)
    for dependency in checked:
        for vuln in dependency.get("vulns") or []:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            verdict.vulnerable.append(f"{dependency['name']} {dependency['version']}")
            verdict.lines.append(
                f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} ({fixed})"
            )
    if verdict.vulnerable:
        verdict.status, verdict.exit_code = VULNERABLE, 1
        packages = len(set(verdict.vulnerable))
        verdict.lines.append(f"pip-audit: {packages} vulnerable package(s); failing.")
        return verdict
    if not checked:
        verdict.status = NOT_AUDITED
        verdict.lines += _banner(
            f"NOT AUDITED: none of the {len(dependencies)} packages could be looked up "
            "(no vulnerability database reachable from this machine)."
        )
    elif skipped:
        verdict.status = PARTLY_AUDITED
        verdict.lines += _banner(
            f"NOT AUDITED: {len(skipped)} of {len(dependencies)} packages could not be "
            "looked up; the others have no known vulnerability."
        )
    else:
        verdict.lines.append(
            f"pip-audit: all {len(dependencies)} packages audited, none vulnerable."
        )
    if skipped:
        verdict.lines.append("not audited: " + ", ".join(skipped))
    return verdict


def run_pip_audit(extra_args: list[str]) -> tuple[dict | None, str]:
    """pip-audit's JSON report over this environment (None if it wrote none), and its output."""
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "audit.json"
        command = [
            str(VENV_BIN / "pip-audit"),
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(report_path),
            *extra_args,
        ]
        run = subprocess.run(  # noqa: S603 - the venv's own pip-audit, fixed arguments
            command, capture_output=True, text=True, timeout=600, check=False
        )
        report = json.loads(report_path.read_text()) if report_path.is_file() else None
    return report, run.stdout + run.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--record", type=Path, default=DEFAULT_RECORD)
    parser.add_argument(
        "pip_audit_args",
        nargs="*",
        help="arguments for pip-audit (default: the installed packages, editable ones left out)",
    )
    args = parser.parse_args(argv)
    report, output = run_pip_audit(args.pip_audit_args or ["--local", "--skip-editable"])
    verdict = judge(report)
    if report is None:
        verdict.lines.append(output)
    print("\n".join(verdict.lines))
    args.record.parent.mkdir(parents=True, exist_ok=True)
    record = {key: value for key, value in asdict(verdict).items() if key != "lines"}
    args.record.write_text(json.dumps(record, indent=2) + "\n")
    print(f"dependency audit: {verdict.status} (recorded in {args.record})")
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main())
