"""Download one export in this process and report its timings and this process's memory.

    python bench/export_child.py SCALE SIZE PATH WHO

SCALE and SIZE "-": the database and source tree the environment names (`one_writer.py`).

Run by goal1/goal2 as a separate process, so that its peak resident set (VmHWM) belongs to
serving that one export: Django and the app are imported and a small request is served
first, then the peak is reset and the export is read to the end, as a client would.
"""

import gc
import hashlib
import json
import os
import sys
import time

from common import BENCH_USER, django_setup, memory_kb, reset_peak_memory


def main():
    scale, size, path, who = sys.argv[1:5]
    if scale == "-":
        sys.path.insert(0, os.environ["BENCH_SRC"])
        import django

        django.setup()
    else:
        django_setup(scale, size)
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    if who == "staff":
        client.force_login(get_user_model().objects.get(username=BENCH_USER))
    client.get("/healthz")  # import and connect before measuring
    gc.collect()
    peak_reset = reset_peak_memory()
    rss_before = memory_kb("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.get(path)
    first_byte = None
    size_bytes = lines = 0
    digest = hashlib.sha256()
    chunks = response.streaming_content if response.streaming else [response.content]
    for chunk in chunks:
        if first_byte is None and chunk:
            first_byte = time.perf_counter() - started
        size_bytes += len(chunk)
        digest.update(chunk)
        lines += chunk.count(b"\n")
    total = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    print(
        json.dumps(
            {
                "path": path,
                "status": response.status_code,
                "streaming": response.streaming,
                "first_byte_s": round(first_byte or total, 3),
                "total_s": round(total, 3),
                "cpu_s": round(cpu, 3),
                "bytes": size_bytes,
                "sha256": digest.hexdigest(),
                "rows": max(0, lines - 1),
                "rss_before_mb": round(rss_before / 1024, 1),
                "peak_rss_mb": round(memory_kb("VmHWM") / 1024, 1),
                "peak_reset": peak_reset,
            }
        )
    )


if __name__ == "__main__":
    main()
