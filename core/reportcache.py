"""Report results kept in the cache until the data under them changes.

A report aggregates every initiative or survey record in its scope, so computing it costs
more as the register grows. Its result is therefore kept in the default cache, under the
current *data generation*: a random token that is replaced whenever a table the reports
read changes (`WATCHED_APPS`, `WATCHED_MODELS`). A new token makes every earlier entry
unreachable, so a report never shows data older than the last committed change (entries
also expire after `REPORT_CACHE_SECONDS`, and fall out of the cache like any other).

The token is replaced twice per write: at once, so that the writing transaction reads its
own changes, and again after the commit. The second replacement is what keeps other
processes correct: a reader that picked up the first token before the commit may have
cached figures without the change, under a token nobody reads any more.

Writes through the ORM are noticed by signal receivers (`connect`). Paths that write in
bulk without signals (the survey import, the data generator, a restore, deleting survey
records) call `data_changed()` themselves.

With several server processes the cache must be shared (`CACHE_URL`, docs/DEPLOY.md) for
one process's change to reach the others' reports; the deploy checks warn otherwise.
"""

import hashlib
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

GENERATION_KEY = "reports:generation"

T = TypeVar("T")

# What the reports (and the admin's cached filter lists) read: every survey table, and
# these of the initiatives app. Writes elsewhere (sign-in records, tokens, memberships,
# timelines, history rows) leave the cached reports alone.
WATCHED_APPS = ("survey",)
WATCHED_MODELS = (
    "initiatives.Initiative",
    "initiatives.Participation",
    "initiatives.AccountabilityFramework",
    "initiatives.BudgetFramework",
    "initiatives.StageChange",
)

# Deleted in bulk (a whole wave at a time), where a delete receiver would make Django load
# every row to send it one signal; their deletions call `data_changed()` instead.
BULK_DELETED = ("survey.Respondent", "survey.Response")


def _new_generation() -> None:
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def generation() -> str:
    """The current data generation (a token; a new one after every change)."""
    token = cache.get(GENERATION_KEY)
    if token is None:
        # First use, or the key fell out of the cache: a fresh token, never an old one.
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        token = cache.get(GENERATION_KEY)
    return token


def data_changed() -> None:
    """Say that report data changed: now, and again when the current transaction commits."""
    _new_generation()
    transaction.on_commit(_new_generation)


def enabled() -> bool:
    return settings.REPORT_CACHE_SECONDS > 0


def cached(key_parts: Iterable[object], compute: Callable[[], T]) -> T:
    """`compute()`, or its result kept from an earlier call with the same key in this
    data generation. key_parts: what the result depends on (report, parameters, language).
    """
    if not enabled():
        return compute()
    digest = hashlib.sha256(repr(tuple(key_parts)).encode()).hexdigest()
    key = f"reports:{generation()}:{digest}"
    result = cache.get(key)
    if result is None:
        result = compute()
        cache.set(key, result, timeout=settings.REPORT_CACHE_SECONDS)
    return result


def _watched(model: type[models.Model]) -> bool:
    # A tag list's table (many-to-many, made by Django) counts as its initiative's.
    owner = model._meta.auto_created
    if isinstance(owner, type):
        model = owner
    return model._meta.app_label in WATCHED_APPS or model._meta.label in WATCHED_MODELS


def _on_write(sender: type[models.Model], **kwargs: Any) -> None:
    if _watched(sender):
        data_changed()


def _on_m2m(sender: type[models.Model], action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear") and _watched(sender):
        data_changed()


def connect() -> None:
    """Listen to every ORM write to the tables the reports read."""
    from django.apps import apps

    post_save.connect(_on_write, dispatch_uid="reportcache-save")
    m2m_changed.connect(_on_m2m, dispatch_uid="reportcache-m2m")
    for model in apps.get_models():
        if _watched(model) and model._meta.label not in BULK_DELETED:
            post_delete.connect(_on_write, sender=model, dispatch_uid=f"reportcache-{model}")
