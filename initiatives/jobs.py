"""The register import as a background job (survey/jobs.py runs the jobs).

A file over JOB_IMPORT_BYTES is checked and imported by a worker rather than in a web
request: first a dry run (the preview: what would be created, updated, unchanged, or every
problem with its line and column), then, once its owner applies it from the job's page,
the import itself, from the same kept file. The import is `import_initiatives`, one
transaction: a worker killed half-way leaves nothing written, and the job shows as failed,
with a retry.

Only staff who may import the register (`initiatives.import_register`) start, see, apply
or retry these jobs; the survey's job machinery asks that permission for this kind.
"""

import re

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from survey.jobs import count_lines, job_start, register_kind
from survey.models import Job
from survey.uploads import forget_upload, keep_upload, open_upload

from .imports import import_initiatives

PERMISSION = "initiatives.import_register"
#: Register imports run one at a time: two files may touch the same initiatives.
LOCK = "register-import"
# A problem's place in a sheet is its cell (`D17`); in a CSV file, its line.
_CELL = re.compile(r"[A-Z]{1,3}[0-9]+")


def register_import_start(*, owner, upload, dry_run=True):
    """Keep `upload` for `owner` and import it in a job (a dry run unless told otherwise)."""
    if not owner.has_perm(PERMISSION):
        raise PermissionDenied(_("Only staff who review and change any initiative import."))
    params = {
        "upload": keep_upload(upload, owner=owner),
        "name": getattr(upload, "name", "") or "",
        "size": getattr(upload, "size", None),
        "dry_run": dry_run,
    }
    return job_start(kind=Job.Kind.REGISTER_IMPORT, owner=owner, params=params, lock=LOCK)


def _outcome(result):
    """The result as the job keeps it: counts rather than every reference (a register of
    100,000 rows would make a job's record megabytes long), and the problems."""
    return {
        "ok": result.ok,
        "dry_run": result.dry_run,
        "rows": result.rows,
        "created": len(result.created),
        "updated": len(result.updated),
        "unchanged": len(result.unchanged),
        "errors": [
            {
                "line": problem.line,
                "column": problem.column,
                "cell": problem.where if _CELL.fullmatch(problem.where) else "",
                "where": problem.where,
                "value": problem.value,
                "message": problem.message,
            }
            for problem in result.errors
        ],
        "error_count": result.error_count,
        "summary": str(result.summary()),
    }


def run_register_import(job, beat):
    params = job.params
    dry_run = bool(params.get("dry_run"))
    with open_upload(params["upload"], owner=job.owner) as source:
        Job.objects.filter(pk=job.pk).update(rows_total=count_lines(source))
        result = import_initiatives(source, by=job.owner, dry_run=dry_run, progress=beat.add_rows)
    beat.rows_read = result.rows
    if result.written:
        beat.rows_written = len(result.created) + len(result.updated)
    job.outcome = _outcome(result)
    job.message = str(result.summary())
    # A refused file, or one imported, is an outcome, not a failure to retry: the kept file
    # is no longer needed. A dry run that passed keeps it, for the import to apply.
    if not (dry_run and result.ok):
        forget_upload(params["upload"], owner=job.owner)
    return Job.Status.DONE


def register():
    register_kind(Job.Kind.REGISTER_IMPORT, run_register_import, permission=PERMISSION)
