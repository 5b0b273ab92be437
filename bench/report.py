"""Write bench/RESULTS.md from bench/results/<scale>/*.json.

    python bench/report.py

The sections "## Survey import and indicator CSV (issue 3)" (bench/survey_import.py),
"## Wide files, background jobs, waves compared (goal 7)" (bench/goal7_wide_and_jobs.py),
"## One writer per export" (bench/one_writer.py) and "## Public pages at cache speed
(goal 8)" (bench/goal8_cached_load.py) belong to their own benchmarks; they are read from
the current file and kept as they are.
The fixes made after profiling are written by hand in bench/FIXES.md and included.
"""

import re

from common import BENCH, load

OWN_SECTIONS = (
    "## Survey import and indicator CSV (issue 3)",
    "## Wide files, background jobs, waves compared (goal 7)",
    "## The register: import of initiatives and XLSX export",
    "## One writer per export",
    "## Public pages at cache speed (goal 8)",
    "## Test loop",
)
RESULTS_MD = BENCH / "RESULTS.md"


def yes(flag):
    return "**yes**" if flag else "**no**"


def kept_sections():
    """The sections of RESULTS.md that another benchmark writes."""
    if not RESULTS_MD.exists():
        return []
    text = RESULTS_MD.read_text()
    parts = re.split(r"(?m)^(?=## )", text)
    return [part.rstrip() + "\n" for part in parts if part.startswith(OWN_SECTIONS)]


def machine_section(data):
    if not data:
        return []
    m = data["machine"]
    settings = ", ".join(f"{k} {v}" for k, v in sorted(m["postgresql_settings"].items()))
    lines = [
        "## Machine",
        "",
        f"- {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB memory, Linux {m['kernel']}",
        f"- PostgreSQL {m['postgresql']} on the same machine ({settings})",
        f"- Python {m['python']}; commit measured: `{data.get('commit', '?')}`",
        f"- Last run from {data['started']} to {data.get('finished', '?')} (goals "
        f"{', '.join(data.get('goals_run', []))}); the goals were run in several passes, each "
        "section says when and at which commit.",
        f"- Load average at the start {m['load_average']}, at the end "
        f"{data.get('load_at_end', '?')}. The 2 cores are shared with other engineers' test "
        "runs, so absolute times are noisy; every goal is therefore a ratio of two "
        "measurements taken side by side in the same run. Busiest processes at the start: "
        + "; ".join(f"`{p}`" for p in data.get("other_load", [])),
        "",
    ]
    return lines


def generation_section(data):
    if not data:
        return []
    lines = [
        "## Data generation",
        "",
        "`python manage.py generate_scale_data --initiatives N --responses M --seed 1` "
        "(COPY on PostgreSQL, then VACUUM ANALYZE):",
        "",
        "| data set | initiatives | responses | seconds | database size |",
        "|---|---:|---:|---:|---:|",
    ]
    for size, row in data["sizes"].items():
        lines.append(
            f"| {size} | {row['initiatives']:,} | {row['responses']:,} | {row['seconds']} | "
            f"{row['database_mb']} MB |"
        )
    large = data["sizes"].get("large")
    if large:
        lines += ["", "Rows written for the large set:", "", "```"]
        lines += [line for line in large["output"] if ":" in line]
        lines += ["```"]
    return [*lines, ""]


def goal1(data, summary):
    lines = [
        "## Goal 1: exports stream in bounded memory",
        "",
        "Each export served in a fresh process (Django test client, whole stack); the peak "
        "resident set (VmHWM, reset after start-up) of that process, the time to the first "
        "byte, and the time PostgreSQL takes to run the same query to its end "
        "(`COPY (SELECT ...) TO STDOUT`).",
        "",
        "| export | size | rows | first byte | whole file | query alone | RSS before | peak RSS |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, result in data.items():
        if not isinstance(result, dict) or "sizes" not in result:
            continue
        for size, run in result["sizes"].items():
            if run.get("status") != 200:
                lines.append(f"| {name} | {size} | HTTP {run.get('status')} | | | | | |")
                continue
            lines.append(
                f"| {name} | {size} | {run['rows']:,} | {run['first_byte_s']} s | "
                f"{run['total_s']} s | {run['query_s']} s | {run['rss_before_mb']} MB | "
                f"{run['peak_rss_mb']} MB |"
            )
        if "skipped" in result:
            summary.append((f"1. {name} export memory", result["skipped"], "", "", "no"))
            continue
        large = result["sizes"]["large"]
        summary.append(
            (
                f"1. {name} export streams in bounded memory",
                f"peak {large['peak_rss_mb']} MB; growth {result['growth']:+.0%}; first byte "
                f"{large['first_byte_s']} s vs query {large['query_s']} s",
                f"{1 + result['growth']:.2f}x",
                "< 100 MB, < +20%, first byte before query end",
                yes(result["holds"]),
            )
        )
    return [*lines, ""]


def goal2(data, summary):
    lines = [
        "## Goal 2: exports near the database's floor",
        "",
        "coprod: the export read to the end in a fresh process (runs listed below), large "
        "data set. "
        "COPY: `COPY (hand-written SELECT of the same columns, same order) TO STDOUT WITH CSV` "
        "through psycopg with PostgreSQL's JIT on and off (median of 3; once each at "
        "national scale), the lower taken as the floor. django-import-export: a "
        "`ModelResource` with the same columns, given "
        "`select_related`/`prefetch_related`, `export().csv`, against coprod's export of the "
        "same middle-size data (import-export builds the whole file in memory and needs many "
        "minutes at national scale).",
        "",
        "| export | rows | coprod | COPY (JIT on / off) | coprod / COPY | limit |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    ie_lines = [
        "",
        "| export | rows (middle size) | coprod | django-import-export | import-export / coprod |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, r in data.items():
        if not isinstance(r, dict):
            continue
        if "skipped" in r:
            lines.append(f"| {name} | {r['skipped']} | | | | |")
            continue
        capped = "≥ " if r["import_export_capped"] else ""
        medians = r.get("copy_medians_s", {})
        runs = ", ".join(f"{t} s" for t in r.get("coprod_runs_s", []))
        lines.append(
            f"| {name} | {r['rows']:,} | {r['coprod_s']} s ({runs}) | {r['copy_s']} s "
            f"({medians.get('jit_on')} / {medians.get('jit_off')}) | "
            f"{r['ratio_to_copy']}x | {r['limit_to_copy']}x |"
        )
        ie_lines.append(
            f"| {name} | {r['mid_rows']:,} | {r['coprod_mid_s']} s | "
            f"{capped}{r['import_export_s']} s | {capped}{r['import_export_over_coprod']}x |"
        )
        summary.append(
            (
                f"2. {name} export near the floor",
                f"{r['coprod_s']} s vs COPY {r['copy_s']} s ({r['rows']:,} rows); "
                f"import-export {capped}{r['import_export_s']} s vs {r['coprod_mid_s']} s "
                f"({r['mid_rows']:,} rows)",
                f"{r['ratio_to_copy']}x COPY; {capped}{r['import_export_over_coprod']}x faster "
                "than import-export",
                f"≤ {r['limit_to_copy']}x; ≥ 10x",
                yes(r["holds"]),
            )
        )
    return lines + ie_lines + [""]


def goal3_from_survey_section(summary):
    """At national scale goal 3 is the survey benchmark's own 1M-row run (same file, same
    method, the same two floors); it is read from its section rather than run twice."""
    for section in kept_sections():
        for line in section.splitlines():
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if len(cells) >= 8 and cells[0] == "1,000,000":
                floor, into, coprod = cells[2].split(" (")[0], cells[3], cells[4]
                ratio, ratio_into = cells[6], cells[7]
                summary.append(
                    (
                        "3. survey import near the floor",
                        f"{coprod} vs COPY FROM {floor} (1,000,000 rows; COPY straight into "
                        f"`survey_response`: {into}); from the survey benchmark's section",
                        f"{ratio} ({ratio_into} of COPY into survey_response)",
                        "≤ 3x",
                        yes(float(ratio.rstrip("×x")) <= 3),
                    )
                )
                return [
                    "## Goal 3: imports near the floor",
                    "",
                    "Measured at national scale by `bench/survey_import.py` (see its section at "
                    'the end, "Survey import and indicator CSV (issue 3)"): 1,000,000 rows '
                    f"imported in {coprod}, against {floor} for `COPY ... FROM` into a plain "
                    f"table ({ratio}) and {into} for `COPY` straight into `survey_response` "
                    f"({ratio_into}). `bench/goal3_import_floor.py` makes the same measurement "
                    "at the quick size.",
                    "",
                ]
    return []


def goal3(data, summary):
    if not data:
        return goal3_from_survey_section(summary)
    runs = ", ".join(f"{run['seconds']} s" for run in data["import_runs"])
    peaks = ", ".join(f"{run['peak_rss_mb']} MB" for run in data["import_runs"])
    lines = [
        "## Goal 3: imports near the floor",
        "",
        f"A {data['rows']:,}-row file ({data['file_mb']} MB) from `bench/survey_generate.py`. "
        "coprod: `manage.py import_survey FILE --create-wave` (validation included, a fresh "
        "copy of the small database each time, process start included); floor: `COPY plain "
        "FROM STDIN WITH CSV HEADER` of the same file into a 7-column text table.",
        "",
        f"- import: {runs} (median {data['import_s']} s, {data['rows_per_s']:,} rows/s; "
        f"peak RSS {peaks})",
        f"- COPY FROM: {', '.join(f'{c} s' for c in data['copy_runs_s'])} "
        f"(median {data['copy_s']} s)",
        f"- ratio {data['ratio']}x (limit {data['limit']}x): {yes(data['holds'])}",
        f"- a second floor: the same rows COPYed straight into `survey_response` (its indexes "
        f"and deferred foreign-key checks, no validation): "
        f"{data.get('copy_into_survey_response_s', '?')} s; the import is "
        f"{data.get('ratio_to_copy_into_survey_response', '?')}x that.",
        "",
    ]
    summary.append(
        (
            "3. survey import near the floor",
            f"{data['import_s']} s vs COPY FROM {data['copy_s']} s ({data['rows']:,} rows)",
            f"{data['ratio']}x",
            f"≤ {data['limit']}x",
            yes(data["holds"]),
        )
    )
    return lines


def _ms(value):
    return "—" if value is None else f"{value:.0f} ms"


def goal4(data, summary):
    if not data:
        return []
    lines = [
        "## Goal 4: pages don't grow with the data",
        "",
        f"Django test client in a separate process, {data['rounds']} round(s) (small then "
        f"large) × {data['repeat']} requests per page and size after a warm-up (3 for a page "
        "that takes over 2 s); median wall time and the number of SQL queries per request. "
        "The warm-up is the first request for the page in that process: for a report it "
        "computes the figures, which later requests read from the report cache until the "
        "data changes (`core/reportcache.py`); its time is shown beside the median "
        "(the report's own queries are timed against hand-written SQL in goal 5).",
        "",
        "| page | as | small median | large median | large / small | queries small → large | "
        "holds | first request small / large |",
        "|---|---|---:|---:|---:|---|---|---:|",
    ]
    worst, all_hold, measured = 0, True, 0
    for name, r in data["pages"].items():
        if "skipped" in r:
            lines.append(f"| {name} | {r['who']} | {r['skipped']} | | | | |")
            continue
        measured += 1
        worst = max(worst, r["ratio"])
        all_hold = all_hold and r["holds"]
        lines.append(
            f"| {name} | {r['who']} | {r['small_median_ms']} ms | {r['large_median_ms']} ms | "
            f"{r['ratio']}x | {r['queries_small']} → {r['queries_large']} | {yes(r['holds'])} | "
            f"{_ms(r.get('small_first_ms'))} / {_ms(r.get('large_first_ms'))} |"
        )
    summary.append(
        (
            "4. pages don't grow with the data",
            f"{measured} pages; worst large/small median {worst}x",
            f"{worst}x",
            "≤ 1.5x, same query count",
            yes(all_hold and measured > 0),
        )
    )
    return [*lines, ""]


def goal5(data, summary):
    if not data:
        return []
    lines = [
        "## Goal 5: reports at the database's speed",
        "",
        f"Large data set; each report function as the page calls it against a hand-written "
        f"SQL aggregate through psycopg on the same connection, alternately, median of "
        f"{data['repeat']}.",
        "",
        "| report | app | hand-written SQL | ratio | queries | holds |",
        "|---|---:|---:|---:|---:|---|",
    ]
    plans = ["### EXPLAIN (ANALYZE, BUFFERS) of the queries the reports send", ""]
    for name, r in data["reports"].items():
        if "skipped" in r:
            lines.append(f"| {name} | {r['skipped']} | | | | |")
            continue
        lines.append(
            f"| {name} | {r['app_s'] * 1000:.1f} ms | {r['sql_s'] * 1000:.1f} ms | "
            f"{r['ratio']}x | {r['queries']} | {yes(r['holds'])} |"
        )
        summary.append(
            (
                f"5. {name}",
                f"{r['app_s'] * 1000:.0f} ms vs SQL {r['sql_s'] * 1000:.0f} ms",
                f"{r['ratio']}x",
                f"≤ {data['limit']}x",
                yes(r["holds"]),
            )
        )
        heavy = [p for p in r["plans"] if "survey_response" in p["sql"] or len(r["plans"]) < 4]
        for plan in heavy[:3]:
            plans += [f"**{name}**", "", "```sql", plan["sql"][:1500], "```", "", "```"]
            plans += plan["plan"][:40]
            plans += ["```", ""]
    return [*lines, "", *plans]


def goal6(data, summary):
    if not data:
        return []
    g = data["gunicorn"]
    lines = [
        "## Goal 6: under load",
        "",
        f"gunicorn {g['workers']} gthread workers × {g['threads']} threads, timeout "
        f"{g['timeout']} s, DEBUG off, CONN_MAX_AGE=60, on 127.0.0.1; `wrk -t2 -c16 "
        f"-d{data['seconds_per_page']}s --timeout 10s --latency` per page, one after another in "
        "the same run, on the large data set. The API throttles are raised for the run (one "
        "client is the whole load).",
        "",
        "| page | requests | req/s | p50 | p90 | p99 | errors | timeouts |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ok = True
    figures = []
    for name, r in data["pages"].items():
        if "skipped" in r:
            lines.append(f"| {name} | {r['skipped']} | | | | | | |")
            ok = False
            continue
        ok = ok and r["errors"] == 0 and r["timeouts"] == 0
        figures.append(f"{name.split(' (')[0]} {r['rps']:.0f}/s")
        lines.append(
            f"| {name} (`{r['path']}`) | {r['requests']:,} | {r['rps']} | {r['p50_ms']} ms | "
            f"{r['p90_ms']} ms | {r['p99_ms']} ms | {r['errors']} | {r['timeouts']} |"
        )
    export = data.get("export_under_load", {})
    if "skipped" in export:
        lines += ["", f"Export under load: {export['skipped']}."]
        ok = False
    elif export:
        lines += [
            "",
            f"Export under load: `{export['path']}` ({export['expected_bytes']:,} bytes) read by "
            f"a slow client over {export.get('seconds')} s while wrk loaded the public list "
            f"({export['load_meanwhile']['rps']} req/s, p99 {export['load_meanwhile']['p99_ms']} "
            f"ms, {export['load_meanwhile']['errors']} errors): HTTP {export.get('status')}, "
            f"{export.get('bytes'):,} bytes received, complete: {yes(export['complete'])}; "
            f"worker timeouts in gunicorn's log: {export['worker_timeouts_in_log']}.",
        ]
        ok = ok and export["complete"] and export["worker_timeouts_in_log"] == 0
    summary.append(
        (
            "6. under load (16 connections)",
            "; ".join(figures),
            "",
            "0 errors, 0 timeouts; 60 s export survives",
            yes(ok),
        )
    )
    return [*lines, ""]


def summary_table(summary):
    lines = ["| goal | measured | ratio | goal | holds |", "|---|---|---|---|---|"]
    lines += [f"| {' | '.join(str(cell) for cell in row)} |" for row in summary]
    return lines


def render(scale):
    summary = []
    body = generation_section(load(scale, "generate"))
    for goal, write in (
        ("goal1", goal1),
        ("goal2", goal2),
        ("goal3", goal3),
        ("goal4", goal4),
        ("goal5", goal5),
        ("goal6", goal6),
    ):
        data = load(scale, goal)
        try:
            lines = write(data or {}, summary)
            if data and lines:
                lines[1:1] = [
                    "",
                    f"_Measured {data['measured_at']} at commit `{data.get('commit', '?')}`; "
                    f"load average {data.get('load_average')}._",
                ]
            body += lines
        except (KeyError, TypeError) as exc:  # a result file from an older version of a script
            body += [f"## {goal}: result in an older format ({exc!r}); run it again", ""]
    return summary, body


def main():
    full_summary, full_body = render("full")
    quick_summary, _ = render("quick")
    run = load("full", "run") or load("quick", "run")
    lines = [
        "# Benchmark results",
        "",
        "Written by `bench/report.py` from `bench/results/`; reproduce with `make bench` "
        "(national scale: 100,000 initiatives, 1,000,000 survey records) or `make bench-quick` "
        '(a tenth). See the README\'s section "Benchmarks".',
        "",
    ]
    lines += machine_section(run)
    if full_summary:
        lines += ["## Summary (national scale)", "", *summary_table(full_summary), ""]
    fixes = BENCH / "FIXES.md"
    if fixes.exists():
        lines += [fixes.read_text().rstrip(), ""]
    lines += full_body
    if quick_summary:
        lines += [
            "## Quick run (a tenth of the size)",
            "",
            "The goals run with `make bench-quick` so far (the others are only in the national "
            "run above):",
            "",
        ]
        lines += [*summary_table(quick_summary), ""]
    text = "\n".join(lines).rstrip() + "\n"
    for section in kept_sections():
        text += "\n" + section
    RESULTS_MD.write_text(text)
    print(f"wrote {RESULTS_MD}")


if __name__ == "__main__":
    main()
