"""Run pip-audit over the installed dependencies and judge its report.

Fails (exit 1) when pip-audit names a known vulnerability. When the vulnerability
database cannot be reached (this machine reaches package indexes only, not PyPI's
JSON advisories nor OSV), pip-audit marks every package "skipped": that is printed as
a loud warning with the count, and does not fail the run, because nothing was found.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

VENV_BIN = Path(sys.executable).parent


def main():
    with tempfile.TemporaryDirectory() as folder:
        report_path = Path(folder) / "audit.json"
        run = subprocess.run(  # noqa: S603 - the venv's own pip-audit
            [
                str(VENV_BIN / "pip-audit"),
                "--local",
                "--skip-editable",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report_path),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        report = json.loads(report_path.read_text()) if report_path.is_file() else None
    if report is None:
        print("!! WARNING: pip-audit produced no report; dependencies were NOT audited.")
        print(run.stdout + run.stderr)
        return 0
    dependencies = report.get("dependencies", [])
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    audited = len(dependencies) - len(skipped)
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(
                f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} ({fixed})"
            )
    if vulnerable:
        print(f"pip-audit: {len(vulnerable)} vulnerable package(s); failing.")
        return 1
    print(f"pip-audit: {audited} of {len(dependencies)} packages audited, none vulnerable.")
    if skipped:
        print(
            f"!! WARNING: {len(skipped)} packages could NOT be audited (the vulnerability "
            "database was unreachable from this machine): "
            + ", ".join(sorted(d["name"] for d in skipped))
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
