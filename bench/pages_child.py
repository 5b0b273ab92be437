"""Time pages in this process through Django's test client (run by goal4_pages.py).

    python bench/pages_child.py SCALE SIZE REPEAT JSON_PAGES

Prints one JSON line per page as soon as it is measured ([name, result]), so that a run
stopped at its time limit still reports the pages it finished: the HTTP status, the wall
times of the requests (ms) and the number of SQL queries each made. The client calls the
whole stack (middleware, view, template) without a network in between.
"""

import json
import statistics
import sys
import time

from common import BENCH_USER, django_setup


def measure(client, path, repeat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    response = client.get(path)  # warm caches and connections
    if response.streaming:
        b"".join(response.streaming_content)
    warm = time.perf_counter() - started
    if response.status_code != 200:
        return {"path": path, "status": response.status_code}
    times, queries = [], []
    # A page that takes seconds gets fewer requests, to keep the run bounded.
    for _ in range(repeat if warm < 2 else min(repeat, 3)):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            if response.streaming:
                b"".join(response.streaming_content)
            else:
                response.content  # noqa: B018 - the body is the work
            times.append((time.perf_counter() - started) * 1000)
        queries.append(len(captured.captured_queries))
    return {
        "path": path,
        "status": response.status_code,
        # The first request computes what later ones may find in the report cache.
        "first_ms": round(warm * 1000, 2),
        "median_ms": round(statistics.median(times), 2),
        "times_ms": [round(t, 2) for t in times],
        "bytes": len(response.content) if not response.streaming else None,
        "queries": sorted(set(queries)),
        "sql": [q["sql"][:300] for q in captured.captured_queries],
    }


def main():
    scale, size, repeat, pages = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    django_setup(scale, size)
    from django.contrib.auth import get_user_model
    from django.test import Client

    anonymous, staff = Client(), Client()
    staff.force_login(get_user_model().objects.get(username=BENCH_USER))
    clients = {"anonymous": anonymous, "staff": staff}
    for name, path, who in json.loads(pages):
        print(json.dumps([name, measure(clients[who], path, repeat)]), flush=True)


if __name__ == "__main__":
    main()
