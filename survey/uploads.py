"""Survey files kept on the server between a preview and its import, and for background
imports: in the default storage under `survey-imports/<owner id>/`, for `KEEP_HOURS`.

A key names one file of one owner; `open_upload` refuses a key of another owner or of
any other shape, so a key from a form cannot reach another file.
"""

import contextlib
import re
import uuid
from datetime import timedelta
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.utils import timezone

FOLDER = "survey-imports"
KEEP_HOURS = 24
_SUFFIXES = {".csv", ".xlsx", ".txt"}


def keep_upload(upload, *, owner):
    """Store an uploaded file for `owner`; returns its key."""
    suffix = PurePosixPath(getattr(upload, "name", "") or "").suffix.lower()
    if suffix not in _SUFFIXES:
        suffix = ""
    if hasattr(upload, "seek"):
        upload.seek(0)
    return default_storage.save(f"{FOLDER}/{owner.pk}/{uuid.uuid4().hex}{suffix}", upload)


def _checked(key, owner):
    pattern = rf"{FOLDER}/{owner.pk}/[0-9a-f]{{32}}(\.(csv|xlsx|txt))?"
    if not key or not re.fullmatch(pattern, key) or not default_storage.exists(key):
        raise FileNotFoundError(key)
    return key


def open_upload(key, *, owner):
    """The file behind `key`, opened for reading; FileNotFoundError if it is not theirs
    or no longer kept."""
    return default_storage.open(_checked(key, owner), "rb")


def upload_kept(key, *, owner):
    """Whether the file behind `key` is still kept for `owner`."""
    try:
        _checked(key, owner)
    except FileNotFoundError:
        return False
    return True


def upload_name(key):
    return PurePosixPath(key).name


def forget_upload(key, *, owner):
    with contextlib.suppress(FileNotFoundError):
        default_storage.delete(_checked(key, owner))


def forget_old_uploads(*, now=None):
    """Delete the kept files older than KEEP_HOURS; returns how many."""
    limit = (now or timezone.now()) - timedelta(hours=KEEP_HOURS)
    removed = 0
    try:
        owners, _files = default_storage.listdir(FOLDER)
    except FileNotFoundError:
        return 0
    for owner in owners:
        _dirs, files = default_storage.listdir(f"{FOLDER}/{owner}")
        for name in files:
            path = f"{FOLDER}/{owner}/{name}"
            if default_storage.get_modified_time(path) < limit:
                default_storage.delete(path)
                removed += 1
    return removed
