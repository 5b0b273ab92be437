"""Goal 2: exports near the database's floor, and against django-import-export.

    python bench/goal2_export_floor.py [--quick]

On the large database, side by side: coprod's export read to the end in a fresh process
(median of 3), `COPY (the same SELECT) TO STDOUT WITH CSV` through psycopg (median of 3),
and the same file built with django-import-export (once; stopped after a time cap, in
which case its time is a lower bound and so is coprod's advantage).
"""

import os
import statistics
import subprocess

from common import child_json, psycopg_connect, save, scale_from_argv
from export_queries import EXPORTS, copy_seconds

LIMITS = {"survey records": 2.0, "initiatives": 3.0}
IMPORT_EXPORT_FACTOR = 10
REPEAT = 3


def main():
    scale = scale_from_argv()
    cap = int(os.environ.get("BENCH_IE_CAP", 300 if scale == "full" else 120))
    results = {}
    for name, (path, who, sql) in EXPORTS.items():
        runs = [
            child_json(["export_child.py", scale, "large", path, who], scale=scale, size="large")
            for _ in range(REPEAT)
        ]
        if runs[0]["status"] != 200:
            results[name] = {"skipped": f"HTTP {runs[0]['status']}"}
            continue
        coprod = statistics.median(run["total_s"] for run in runs)
        with psycopg_connect(scale, "large") as conn:
            copies = [copy_seconds(conn, sql) for _ in range(REPEAT)]
        floor = statistics.median(seconds for seconds, _ in copies)
        which = "survey" if name == "survey records" else "initiatives"
        try:
            ie = child_json(
                ["importexport_child.py", scale, "large", which],
                scale=scale,
                size="large",
                timeout=cap,
            )
            ie_seconds, ie_capped = ie["seconds"], False
        except subprocess.TimeoutExpired:
            ie_seconds, ie_capped = float(cap), True
        results[name] = {
            "coprod_s": round(coprod, 2),
            "coprod_runs_s": [run["total_s"] for run in runs],
            "rows": runs[0]["rows"],
            "bytes": runs[0]["bytes"],
            "copy_s": round(floor, 2),
            "copy_bytes": copies[0][1],
            "ratio_to_copy": round(coprod / floor, 2),
            "limit_to_copy": LIMITS[name],
            "import_export_s": ie_seconds,
            "import_export_capped": ie_capped,
            "import_export_over_coprod": round(ie_seconds / coprod, 1),
            "holds": coprod / floor <= LIMITS[name] and ie_seconds / coprod >= IMPORT_EXPORT_FACTOR,
        }
        print(name, results[name], flush=True)
    save(scale, "goal2", results)


if __name__ == "__main__":
    main()
