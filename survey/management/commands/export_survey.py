from django.core.management.base import BaseCommand, CommandError

from survey.exports import export_lines
from survey.models import Wave


class Command(BaseCommand):
    help = (
        "Write survey records as CSV in the import format "
        "(wave,country,respondent,sector,question,item,answer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--wave", metavar="CODE", help="Only this wave (default: all).")
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE (default: standard output)."
        )

    def handle(self, *args, wave=None, output=None, **options):
        selected = None
        if wave:
            selected = Wave.objects.filter(code=wave).first()
            if selected is None:
                raise CommandError(f"Unknown wave {wave!r}.")
        lines = export_lines(wave=selected)
        if output:
            with open(output, "w", encoding="utf-8", newline="") as stream:
                for line in lines:
                    stream.write(line)
        else:
            for line in lines:
                self.stdout.write(line, ending="")
