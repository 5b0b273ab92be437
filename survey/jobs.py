"""Long work in the background: survey imports, large exports and the register import of
initiatives, as `Job` rows run by a worker.

The task engine (django-tasks: its database backend by default, RQ on Redis in
production, see settings `TASKS_BACKEND` and docs/DEPLOY.md) only carries a job's id to a
worker; `run_job` is the one function it knows. Everything coprod relies on (status,
progress, outcome, retries, one import at a time) lives in the `Job` row and in this module,
so that another engine can carry the ids without a change here.

- Progress: while a job runs, a thread of the worker writes the rows read so far and a
  heartbeat every JOB_HEARTBEAT_SECONDS, on its own database connection, outside the
  import's transaction (which shows nothing until it commits).
- A killed worker: its import's transaction dies with its connection, so nothing is
  written; its heartbeats stop, and after JOB_STALE_SECONDS the job shows as failed
  (`reap_stale_jobs`, run by every worker and by the job page), with a retry.
- One import at a time: survey imports share one lock; a partial unique index lets only
  one job per lock be running, so a second import waits in its worker until the first ends.
  Imports into different waves wait for each other too: they write the same tables, and a
  large import locks them.
- Kinds of job from the apps above the survey (the register import of initiatives) are
  run by the runner that app registers (`register_kind`, from its `AppConfig.ready`), with
  the permission it names: only people holding it start, see or retry such a job.
- A dry run (`params["dry_run"]`) that found nothing wrong can be applied: `job_apply`
  starts the same job for real, on the same kept file.
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from .models import Job, Wave
from .uploads import forget_upload, open_upload, upload_kept

if TYPE_CHECKING:
    from types import TracebackType

    from django.contrib.auth.models import User
    from django.db.models import QuerySet

logger = logging.getLogger(__name__)

SURVEY_IMPORT_LOCK = "survey-import"
EXPORT_FOLDER = "survey-exports"
LOCK_POLL_SECONDS = 1.0
LOCK_WAIT_SECONDS = 6 * 3600


def job_start(*, kind: str, owner: User, params: dict[str, Any], lock: str = "") -> Job:
    """Record a job and hand it to the workers once the caller's transaction commits."""
    job = Job.objects.create(kind=kind, owner=owner, params=params, lock=lock)
    transaction.on_commit(lambda: run_job.enqueue(str(job.pk)))
    return job


def survey_import_start(
    *, owner: User, upload_key: str, name: str = "", size: int | None = None, **options: Any
) -> Job:
    """A survey import as a job: the file kept by `uploads.keep_upload`, and the options of
    `import_survey` (mapping, wave, create_wave, create_items, replace)."""
    params = {"upload": upload_key, "name": name, "size": size, **options}
    return job_start(
        kind=Job.Kind.SURVEY_IMPORT, owner=owner, params=params, lock=SURVEY_IMPORT_LOCK
    )


def survey_export_start(*, owner: User, wave: Wave | None = None) -> Job:
    params = {"wave": wave.code if wave is not None else ""}
    return job_start(kind=Job.Kind.SURVEY_EXPORT, owner=owner, params=params)


def job_retry(*, job: Job, by: User) -> Job:
    """Run a failed job again (its owner only); returns it."""
    if by != job.owner or not may_start(by, job.kind):
        raise PermissionDenied
    updated = Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
        status=Job.Status.QUEUED,
        message="",
        phase="",
        outcome={},
        rows_read=0,
        rows_written=0,
        finished_at=None,
    )
    if updated:
        transaction.on_commit(lambda: run_job.enqueue(str(job.pk)))
    job.refresh_from_db()
    return job


def job_apply(*, job: Job, by: User) -> Job:
    """Run for real a dry run that ended without a problem (its owner only); returns the new
    job, or the one already started from it."""
    if by != job.owner or not may_start(by, job.kind):
        raise PermissionDenied
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not applicable(job):
            raise PermissionDenied
        if job.params.get("applied"):
            return Job.objects.get(pk=job.params["applied"])
        applied = job_start(
            kind=job.kind, owner=job.owner, params={**job.params, "dry_run": False}, lock=job.lock
        )
        job.params = {**job.params, "applied": str(applied.pk)}
        job.save(update_fields=["params"])
    return applied


def applicable(job: Job) -> bool:
    """A dry run that ended without a problem, whose file is still kept: it can be run for
    real."""
    return _clean_dry_run(job) and (
        bool(job.params.get("applied")) or upload_kept(job.params.get("upload"), owner=job.owner)
    )


def preview_expired(job: Job) -> bool:
    """A clean dry run never applied whose file is no longer kept (`KEEP_HOURS`)."""
    return _clean_dry_run(job) and not applicable(job)


def _clean_dry_run(job: Job) -> bool:
    return bool(
        job.params.get("dry_run") and job.status == Job.Status.DONE and job.outcome.get("ok")
    )


def visible_jobs(user: User) -> QuerySet[Job]:
    """The jobs a person may see: their own, of the kinds they may start."""
    jobs = Job.objects.filter(owner=user)
    refused = [kind for kind, permission in _PERMISSIONS.items() if not user.has_perm(permission)]
    return jobs.exclude(kind__in=refused) if refused else jobs


def may_start(user: User, kind: str) -> bool:
    """Whether `user` may start a job of `kind` (kinds registered with a permission)."""
    permission = _PERMISSIONS.get(kind)
    return permission is None or user.has_perm(permission)


def _stopped_message() -> str:
    return _(
        "The worker running this job stopped (it was killed or restarted) and nothing of "
        "it was written. Retry it."
    )


def reap_stale_jobs(*, now: datetime | None = None) -> int:
    """Running jobs whose worker has not beaten for JOB_STALE_SECONDS: failed, to retry."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    stale = Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=limit)
    # Pages call this as they show a job. A read first: an UPDATE takes SQLite's write lock
    # even when no row matches, and would wait on (then fail beside) a running import.
    if not stale.exists():
        return 0
    return stale.update(
        status=Job.Status.FAILED, finished_at=now, phase="", message=_stopped_message()
    )


def export_expires_at(job: Job) -> datetime | None:
    if not job.finished_at:
        return None
    return job.finished_at + timedelta(hours=settings.JOB_KEEP_HOURS)


def export_available(job: Job) -> bool:
    expires_at = export_expires_at(job)
    return bool(
        job.status == Job.Status.DONE
        and job.result_file
        and expires_at is not None
        and expires_at > timezone.now()
        and default_storage.exists(job.result_file)
    )


def prune_jobs(*, now: datetime | None = None) -> int:
    """Delete export files and kept uploads past JOB_KEEP_HOURS; returns how many files."""
    from .uploads import forget_old_uploads

    now = now or timezone.now()
    limit = now - timedelta(hours=settings.JOB_KEEP_HOURS)
    removed = 0
    for job in Job.objects.filter(finished_at__lt=limit).exclude(result_file=""):
        if default_storage.exists(job.result_file):
            default_storage.delete(job.result_file)
            removed += 1
        Job.objects.filter(pk=job.pk).update(result_file="")
    return removed + forget_old_uploads(now=now)


@task()
def run_job(job_id: str) -> None:
    """The task engine's entry point: run one job by its id."""
    execute_job(job_id)


def execute_job(job_id: str) -> None:
    """Claim the job (waiting for its lock), run it, record how it ended."""
    reap_stale_jobs()
    job = _claim(job_id)
    if job is None:
        return
    runner = _RUNNERS[job.kind]
    with _Heartbeat(job) as beat:
        try:
            status = runner(job, beat)
        except Exception as exc:
            logger.exception("job %s failed", job.pk)
            _finish(
                job,
                Job.Status.FAILED,
                beat,
                message=_("The job stopped on an error (%(error)s). Nothing of it was written.")
                % {"error": type(exc).__name__},
            )
            return
        except BaseException:
            # The worker is told to stop at once (a second SIGTERM, Ctrl+C): the import's
            # transaction has rolled back; say so now rather than when the job goes stale.
            _finish(job, Job.Status.FAILED, beat, message=_stopped_message())
            raise
    _finish(job, status, beat)


def _claim(job_id: str) -> Job | None:
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    waiting = False
    while True:
        now = timezone.now()
        try:
            with transaction.atomic():
                claimed = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
                    status=Job.Status.RUNNING,
                    started_at=now,
                    heartbeat_at=now,
                    phase=_("Reading the file"),
                    attempts=F("attempts") + 1,
                )
        except IntegrityError:
            # Another job holding the same lock is running.
            if not waiting:
                kind = Job.objects.values_list("kind", flat=True).get(pk=job_id)
                Job.objects.filter(pk=job_id).update(phase=_waiting_message(kind))
                waiting = True
            if time.monotonic() > deadline:
                return None
            time.sleep(LOCK_POLL_SECONDS)
            reap_stale_jobs()
            continue
        if not claimed:
            return None  # already run, or running elsewhere
        return Job.objects.select_related("owner").get(pk=job_id)


class _Heartbeat:
    """A thread that writes the job's progress and a heartbeat on its own connection."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.rows_read = 0
        self.rows_written = 0
        self.phase: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add_rows(self, count: int) -> None:
        self.rows_read += count

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                self.write()
        finally:
            close_old_connections()
            from django.db import connection

            connection.close()

    def write(self) -> None:
        fields: dict[str, Any] = {"heartbeat_at": timezone.now(), "rows_read": self.rows_read}
        if self.phase:
            fields["phase"] = self.phase
        try:
            Job.objects.filter(pk=self.job.pk, status=Job.Status.RUNNING).update(**fields)
        except DatabaseError:
            # SQLite lets one writer in at a time: this beat is skipped, the next may pass.
            logger.debug("heartbeat of job %s skipped", self.job.pk, exc_info=True)


def _finish(job: Job, status: str, beat: _Heartbeat, *, message: str | None = None) -> None:
    fields: dict[str, Any] = {
        "status": status,
        "finished_at": timezone.now(),
        "heartbeat_at": timezone.now(),
        "rows_read": beat.rows_read,
        "rows_written": beat.rows_written,
        "phase": "",
    }
    if message is not None:
        fields["message"] = message
    else:
        fields["message"] = job.message
        fields["outcome"] = job.outcome
        fields["result_file"] = job.result_file
    Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(**fields)


def _waiting_message(kind: str) -> str:
    if kind == Job.Kind.SURVEY_IMPORT:
        return _("Waiting for another survey import to end")
    return _("Waiting for another import to end")


def count_lines(source: IO[bytes]) -> int | None:
    """A quick upper bound on a CSV file's rows, for the progress bar; None for XLSX."""
    head = source.read(4)
    if head.startswith(b"PK"):
        source.seek(0)
        return None
    count = head.count(b"\n")
    while chunk := source.read(1 << 20):
        count += chunk.count(b"\n")
    source.seek(0)
    return max(count - 1, 0)


def _run_survey_import(job: Job, beat: _Heartbeat) -> str:
    from .imports import import_survey

    params = job.params
    with open_upload(params["upload"], owner=job.owner) as source:
        total = count_lines(source)
        Job.objects.filter(pk=job.pk).update(rows_total=total)
        result = import_survey(
            source,
            mapping=params.get("mapping") or None,
            wave=params.get("wave") or None,
            create_wave=bool(params.get("create_wave")),
            create_items=bool(params.get("create_items")),
            replace=bool(params.get("replace")),
            progress=beat.add_rows,
        )
    beat.rows_read = result.rows
    beat.rows_written = result.responses_created + result.responses_replaced
    job.outcome = result.as_dict()
    job.message = result.summary()
    # Done either way: a refused file is an outcome (its problems are listed), not a failure
    # to retry. The kept file is no longer needed.
    forget_upload(params["upload"], owner=job.owner)
    return Job.Status.DONE


def _run_survey_export(job: Job, beat: _Heartbeat) -> str:
    from .exports import export_lines

    wave = None
    if job.params.get("wave"):
        wave = Wave.objects.get(code=job.params["wave"])
    name = f"{EXPORT_FOLDER}/{job.owner_id}/{job.pk}.csv"
    beat.phase = _("Writing the file")
    with tempfile.TemporaryFile() as out:
        for piece in export_lines(wave=wave):
            out.write(piece.encode("utf-8"))
            lines = piece.count("\n")
            beat.rows_read += lines
            beat.rows_written += lines
        out.seek(0)
        name = default_storage.save(name, File(out))
    beat.rows_read = beat.rows_written = max(beat.rows_written - 1, 0)  # the header
    job.result_file = name
    job.message = _("%(rows)d records written to a CSV file.") % {"rows": beat.rows_written}
    job.outcome = {"rows": beat.rows_written, "wave": job.params.get("wave", "")}
    return Job.Status.DONE


_RUNNERS: dict[str, Callable[[Job, _Heartbeat], str]] = {
    Job.Kind.SURVEY_IMPORT: _run_survey_import,
    Job.Kind.SURVEY_EXPORT: _run_survey_export,
}
#: Kind → the permission asked of whoever starts, sees or retries a job of that kind.
_PERMISSIONS: dict[str, str] = {}


def register_kind(kind: str, runner: Callable[[Job, _Heartbeat], str], *, permission: str) -> None:
    """Run jobs of `kind` with `runner(job, beat)`, for people holding `permission`.

    For the apps above the survey, which the survey may not import: they call this from
    their `AppConfig.ready`. The runner returns the job's status (DONE), having set
    `job.outcome` and `job.message`, and reports rows through `beat.add_rows`; an exception
    fails the job, with a retry.
    """
    _RUNNERS[kind] = runner
    _PERMISSIONS[kind] = permission
