"""Computed reports and public pages kept in a cache until the data under them changes.

A report aggregates every initiative or survey record in its scope, so computing it costs
more as the register grows; a public page is the same for every anonymous visitor until
the data changes. Both are therefore kept in a cache of their own (the `reports` alias,
`REPORT_CACHE_URL`, separate from the rate-limit and throttle counters so that its entries
never evict those), under the current *data generation*: a random token that is replaced
whenever a watched table changes. A new token makes every earlier entry unreachable;
entries also expire after `REPORT_CACHE_SECONDS`. Keys are hashes of what the result
depends on, so a free parameter (a date, a search) never makes a long key.

Exactness: no visitor sees figures older than the last committed change.
- The token is replaced once per writing transaction, *after* its commit
  (`transaction.on_commit`), never inside it: with a database-backed cache, a write inside
  the transaction would lock the token's row until COMMIT and so serialise every write of
  the site. The on-commit callbacks run before the writing request answers, so every
  request that starts after a write was acknowledged reads the new token.
- Inside the writing transaction, its own reads must see its own changes, which other
  processes must not see. Until the commit, that transaction reads and fills entries under
  a *private* token of its own (`generation()`), carried by its pending on-commit
  callback: a rollback discards the callback, and the private entries with it. A write
  inside a savepoint takes a fresh private token, so rolling back to the savepoint brings
  back the token of the state it returns to.
- A reader that took the old token before the commit may store figures without the change
  afterwards, but only under that old token, which nobody reads any more.

Writes through the ORM are noticed by signal receivers on the models each app declares
(`watch()`, called from the apps' `ready()`). Paths that write in bulk without signals (the
survey import, the data generator, a restore, deleting survey records) call
`data_changed()` themselves.

With several server processes the cache must be shared (`REPORT_CACHE_URL`,
docs/DEPLOY.md) for one process's change to reach the others; the deploy checks warn
otherwise.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from .metrics import timed_cache

if TYPE_CHECKING:
    from django.core.cache.backends.base import BaseCache
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models import Model

T = TypeVar("T")

ALIAS = "reports"
GENERATION_KEY = "reports:generation"


def store() -> BaseCache:
    """The cache that holds the generation and the entries."""
    return caches[ALIAS]


def _new_generation() -> None:
    with timed_cache("generation_replace"):
        store().set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def _shared_generation() -> str:
    cache = store()
    with timed_cache("generation_get"):
        token = cache.get(GENERATION_KEY)
    if token is None:
        # First use, or the key fell out of the cache: a fresh token, never an old one.
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        token = cache.get(GENERATION_KEY)
    return token


class _GenerationReplacement:
    """The on-commit callback that replaces the shared token once the transaction commits.

    `batch` is shared by every replacement of one transaction (one per savepoint level
    written in), so that the shared token is replaced once per commit; `token` is the
    transaction's private token while this replacement is its latest.
    """

    def __init__(self, batch: dict[str, bool]) -> None:
        self.batch = batch
        self.token = uuid.uuid4().hex

    def __call__(self) -> None:
        if not self.batch["done"]:
            self.batch["done"] = True
            _new_generation()


def _pending_change(
    connection: BaseDatabaseWrapper,
) -> tuple[set[str], _GenerationReplacement] | tuple[None, None]:
    """This transaction's latest pending on-commit callback of ours, if any, with the
    savepoints it was registered in."""
    # Entries are (savepoints, func, robust) since Django 4.2; the stubs still say a pair.
    for entry in reversed(connection.run_on_commit):
        savepoints, func = entry[0], entry[1]
        if isinstance(func, _GenerationReplacement):
            return savepoints, func
    return None, None


def _private_token() -> str | None:
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    _savepoints, pending = _pending_change(connection)
    return pending.token if pending is not None else None


def generation() -> str:
    """The data generation this request reads under: the shared token, plus the private
    one of the current transaction when it has written watched data not yet committed."""
    shared = _shared_generation()
    private = _private_token()
    return f"{shared}.{private}" if private else shared


def data_changed() -> None:
    """Say that watched data changed. Outside a transaction the shared token is replaced at
    once; inside one, after its commit (and its own reads use a private token until then).
    """
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _new_generation()
        return
    savepoints, pending = _pending_change(connection)
    if pending is not None and savepoints == set(connection.savepoint_ids):
        pending.token = uuid.uuid4().hex
        return
    # One shared replacement per commit, however many writes and savepoints it had.
    batch = pending.batch if pending is not None else {"done": False}
    transaction.on_commit(_GenerationReplacement(batch))


def enabled() -> bool:
    return settings.REPORT_CACHE_SECONDS > 0


def key(namespace: str, key_parts: Iterable[object]) -> str:
    """A bounded cache key for `key_parts` (anything with a stable repr) in the current
    data generation."""
    digest = hashlib.sha256(repr(tuple(key_parts)).encode()).hexdigest()
    return f"{namespace}:{generation()}:{digest}"


def cached(key_parts: Iterable[object], compute: Callable[[], T]) -> T:
    """`compute()`, or its result kept from an earlier call with the same key in this
    data generation. key_parts: what the result depends on (report, parameters, language).
    """
    if not enabled():
        return compute()
    entry_key = key("reports", key_parts)
    cache = store()
    with timed_cache("report_get"):
        result: T | None = cache.get(entry_key)
    if result is None:
        result = compute()
        with timed_cache("report_set"):
            cache.set(entry_key, result, timeout=settings.REPORT_CACHE_SECONDS)
    return result


def _on_write(sender: type[Model], **kwargs: object) -> None:
    data_changed()


def _on_m2m(sender: type[Model], action: str, **kwargs: object) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        data_changed()


def watch(*models: type[Model], deletes: bool = True) -> None:
    """Replace the data generation after every ORM write to `models` and to their
    many-to-many tables. deletes=False for models deleted in bulk, where a delete receiver
    would make Django load every row to send it one signal; their deletions call
    `data_changed()` instead."""
    for model in models:
        label = model._meta.label
        post_save.connect(_on_write, sender=model, dispatch_uid=f"reportcache-save-{label}")
        if deletes:
            post_delete.connect(_on_write, sender=model, dispatch_uid=f"reportcache-delete-{label}")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            if through is None:  # a field of an abstract model: no table of its own
                continue
            m2m_changed.connect(
                _on_m2m, sender=through, dispatch_uid=f"reportcache-m2m-{through._meta.label}"
            )
