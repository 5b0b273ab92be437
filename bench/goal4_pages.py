"""Goal 4: pages don't grow with the data.

    python bench/goal4_pages.py [--quick]

Each page is requested REPEAT times on the small database and on the large one, in
alternating rounds so that a burst of load from elsewhere on the machine hits both sizes;
the goal holds when the large median is within 1.5x of the small one and the number of
queries is the same at both sizes.
"""

import json
import statistics
import subprocess
import threading

from common import BENCH, PYTHON, SRC, env_for, save, scale_from_argv
from pages import PAGES, parameters, url

ROUNDS, REPEAT, LIMIT = 2, 10, 1.5
CHILD_LIMIT_S = 900


def run_child(scale, size, pages):
    """The pages measured before the time limit; the others are reported as timed out."""
    process = subprocess.Popen(
        [PYTHON, str(BENCH / "pages_child.py"), scale, size, str(REPEAT), json.dumps(pages)],
        cwd=SRC,
        env=env_for(scale, size),
        stdout=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(CHILD_LIMIT_S, process.kill)
    timer.start()
    measured = {}
    for line in process.stdout:
        name, result = json.loads(line)
        measured[name] = result
    process.wait()
    timer.cancel()
    for name, path, _who in pages:
        measured.setdefault(name, {"path": path, "status": f"not measured in {CHILD_LIMIT_S} s"})
    return measured


def main():
    scale = scale_from_argv()
    sizes = ("small", "large")
    params = {size: parameters(scale, size) for size in sizes}
    samples = {size: {} for size in sizes}
    rounds = ROUNDS
    for _ in range(rounds):
        for size in sizes:
            pages = [(name, url(t, params[size]), who) for name, t, who in PAGES]
            measured = run_child(scale, size, pages)
            for name, result in measured.items():
                page = samples[size].setdefault(name, {**result, "times_ms": []})
                # The first round's first request is the one that found no cached report.
                page.setdefault("first_ms", result.get("first_ms"))
                page["times_ms"] += result.get("times_ms", [])
                page["queries"] = sorted(
                    set(page.get("queries", [])) | set(result.get("queries", []))
                )
    rows = {}
    for name, _template, who in PAGES:
        small, large = samples["small"].get(name, {}), samples["large"].get(name, {})
        if small.get("status") != 200 or large.get("status") != 200:
            rows[name] = {
                "who": who,
                "skipped": f"HTTP {small.get('status')} / {large.get('status')}",
            }
            continue
        small_ms = statistics.median(small["times_ms"])
        large_ms = statistics.median(large["times_ms"])
        ratio = large_ms / small_ms
        rows[name] = {
            "who": who,
            "path_large": large["path"],
            "small_median_ms": round(small_ms, 1),
            "large_median_ms": round(large_ms, 1),
            "small_first_ms": small.get("first_ms"),
            "large_first_ms": large.get("first_ms"),
            "ratio": round(ratio, 2),
            "queries_small": small["queries"],
            "queries_large": large["queries"],
            "same_queries": small["queries"] == large["queries"],
            "holds": ratio <= LIMIT and small["queries"] == large["queries"],
            "sql_large": large.get("sql", []),
        }
        print(
            f"{name}: {small_ms:.1f} ms -> {large_ms:.1f} ms (x{ratio:.2f}), "
            f"queries {small['queries']} -> {large['queries']}",
            flush=True,
        )
    save(scale, "goal4", {"rounds": rounds, "repeat": REPEAT, "limit": LIMIT, "pages": rows})


if __name__ == "__main__":
    main()
