"""Rows of a queryset streamed from the database, for exports of any size.

`QuerySet.iterator()` on PostgreSQL reads through a server-side cursor. Outside a
transaction Django declares it WITH HOLD, which makes the server run the whole query and
store its result before the first row leaves, and each chunk then costs a round trip; for a
million survey records that doubled the time the query itself takes. psycopg's `stream()`
reads the rows as the server produces them, a thousand at a time, on Django's own
connection (so a test's transaction sees the same data) and in bounded memory, as a
`COPY ... TO STDOUT` would. Other databases keep `iterator()`.
"""

from collections.abc import Iterator
from typing import Any

import psycopg
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

#: Rows per message from the server, and per fetch of `iterator()` elsewhere.
CHUNK_SIZE = 1000

# Chunked rows need libpq 17; older ones send one row per message, which is slower, not wrong.
_SERVER_CHUNKS = psycopg.pq.version() >= 170000


def stream_rows(queryset: "QuerySet[Any, tuple[Any, ...]]") -> Iterator[tuple[Any, ...]]:
    """The rows of a `values_list()` queryset as tuples, streamed, with Django's conversions.

    While the rows stream on PostgreSQL the connection is busy: the caller runs no other
    query until it has read the last row (or closed the iterator, which cancels the query).
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=CHUNK_SIZE)
        return
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:  # a queryset that cannot match (`.none()`) has no SQL
        return
    with connection.cursor() as cursor:
        # The psycopg cursor under Django's wrapper: Django has no streaming read of its own.
        rows = cursor.cursor.stream(sql, params, size=CHUNK_SIZE if _SERVER_CHUNKS else 1)
        try:
            # One "chunk" that is the stream itself: Django converts the rows as they come.
            yield from compiler.results_iter(results=[rows], tuple_expected=True)
        finally:
            # A reader that leaves early: cancel the query and free the connection now.
            rows.close()
