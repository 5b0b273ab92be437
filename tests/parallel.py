"""Real parallel requests for the race tests: each call on its own thread and connection."""

import threading

from django.db import connection


def run_in_parallel(*calls):
    """Run each call in its own thread and database connection, released together.

    Returns one `(kind, value)` per call: `("ok", result)` or `("error", exception)`.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=30)
            outcomes[index] = ("ok", call())
        except Exception as exc:
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return outcomes
