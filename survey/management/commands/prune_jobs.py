from django.core.management.base import BaseCommand

from survey.jobs import prune_jobs, reap_stale_jobs


class Command(BaseCommand):
    help = (
        "Delete export files and uploads kept for jobs older than JOB_KEEP_HOURS, and mark "
        "as failed the running jobs whose worker has gone silent. Run it daily."
    )

    def handle(self, *args, **options):
        stale = reap_stale_jobs()
        removed = prune_jobs()
        self.stdout.write(f"{removed} kept file(s) deleted; {stale} silent job(s) marked failed.")
