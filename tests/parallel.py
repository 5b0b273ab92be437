"""Real parallel requests for the race tests: each call on its own thread and connection."""

import threading
from contextlib import contextmanager

from django.db import connection
from django.db.models import F
from django.utils import timezone


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


@contextmanager
def archived_right_after_lookup(initiative):
    """Archive `initiative` the moment the next query that reads it returns.

    This stands for a staff member's archive committing between two statements of the
    request under test: whatever that request reads afterwards sees the record archived.
    """
    from initiatives.models import Initiative

    done = False

    def archive_after(execute, sql, params, many, context):
        nonlocal done
        result = execute(sql, params, many, context)
        if (
            not done
            and sql.lstrip().upper().startswith("SELECT")
            and "initiatives_initiative" in sql
        ):
            done = True
            Initiative.objects.filter(pk=initiative.pk).update(
                archived_at=timezone.now(), version=F("version") + 1
            )
        return result

    with connection.execute_wrapper(archive_after):
        yield
    assert done, "the request never read the initiative"
