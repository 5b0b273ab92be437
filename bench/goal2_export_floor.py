"""Goal 2: exports near the database's floor, and against django-import-export.

    python bench/goal2_export_floor.py [--quick]

On the large database, side by side: coprod's export read to the end in a fresh process
and `COPY (the same SELECT) TO STDOUT WITH CSV` through psycopg (median of 3, once at national
scale; with and without PostgreSQL's JIT, the better of the two). On the middle database, coprod's
export against the same file built with django-import-export (once; stopped after a time
cap, in which case its time and coprod's advantage are lower bounds). import-export holds
the whole file in memory and takes many minutes at national scale; the middle size keeps the
run bounded while comparing the two on the same data.
"""

import os
import statistics
import subprocess

from common import child_json, psycopg_connect, save, scale_from_argv
from export_queries import EXPORTS, floor_seconds

LIMITS = {"survey records": 2.0, "initiatives": 3.0}
IMPORT_EXPORT_FACTOR = 10
REPEAT = 3  # 1 at national scale, where one initiatives export takes minutes on 2 shared cores


def main():
    scale = scale_from_argv()
    cap = int(os.environ.get("BENCH_IE_CAP", 600))
    repeat = 1 if scale == "full" else REPEAT
    results = {}
    for name, (path, who, sql) in EXPORTS.items():
        runs = [
            child_json(["export_child.py", scale, "large", path, who], scale=scale, size="large")
            for _ in range(repeat)
        ]
        if runs[0]["status"] != 200:
            results[name] = {"skipped": f"HTTP {runs[0]['status']}"}
            continue
        coprod = statistics.median(run["total_s"] for run in runs)
        with psycopg_connect(scale, "large") as conn:
            floor, copy_bytes, copy_medians = floor_seconds(conn, sql, repeat)
        which = "survey" if name == "survey records" else "initiatives"
        mid = child_json(["export_child.py", scale, "mid", path, who], scale=scale, size="mid")
        try:
            ie = child_json(
                ["importexport_child.py", scale, "mid", which],
                scale=scale,
                size="mid",
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
            "copy_medians_s": copy_medians,
            "copy_bytes": copy_bytes,
            "ratio_to_copy": round(coprod / floor, 2),
            "limit_to_copy": LIMITS[name],
            "mid_rows": mid["rows"],
            "coprod_mid_s": mid["total_s"],
            "import_export_s": ie_seconds,
            "import_export_capped": ie_capped,
            "import_export_over_coprod": round(ie_seconds / mid["total_s"], 1),
            "holds": coprod / floor <= LIMITS[name]
            and ie_seconds / mid["total_s"] >= IMPORT_EXPORT_FACTOR,
        }
        print(name, results[name], flush=True)
    save(scale, "goal2", results)


if __name__ == "__main__":
    main()
