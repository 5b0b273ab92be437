"""Goal 1: exports stream in bounded memory.

    python bench/goal1_export_memory.py [--quick]

Each export is served in a fresh process (export_child.py) at two sizes: the survey records
at 100k and 1M rows, the initiatives at 10k and 100k (a tenth at --quick). The process's
peak resident set must stay under 100 MB and grow by less than 20% between the sizes, and
the first byte must arrive before the database has finished the query, which is timed as
`COPY (the same SELECT) TO STDOUT` on the same data.
"""

from common import child_json, psycopg_connect, save, scale_from_argv
from export_queries import EXPORTS, floor_seconds

PEAK_LIMIT_MB, GROWTH_LIMIT = 100, 0.20


def main():
    scale = scale_from_argv()
    results = {}
    for name, (path, who, sql) in EXPORTS.items():
        sizes = {}
        for size in ("mid", "large"):
            run = child_json(["export_child.py", scale, size, path, who], scale=scale, size=size)
            if run["status"] != 200:
                sizes[size] = run
                continue
            with psycopg_connect(scale, size) as conn:
                run["query_s"] = round(floor_seconds(conn, sql, repeat=1)[0], 3)
            sizes[size] = run
            print(name, size, run, flush=True)
        mid, large = sizes["mid"], sizes["large"]
        if mid["status"] != 200 or large["status"] != 200:
            results[name] = {"sizes": sizes, "skipped": "export not available"}
            continue
        growth = large["peak_rss_mb"] / mid["peak_rss_mb"] - 1
        results[name] = {
            "sizes": sizes,
            "growth": round(growth, 3),
            "first_byte_before_query_end": large["first_byte_s"] < large["query_s"],
            "holds": large["peak_rss_mb"] < PEAK_LIMIT_MB
            and growth < GROWTH_LIMIT
            and large["first_byte_s"] < large["query_s"],
        }
    save(scale, "goal1", {"limits": {"peak_mb": PEAK_LIMIT_MB, "growth": GROWTH_LIMIT}, **results})


if __name__ == "__main__":
    main()
