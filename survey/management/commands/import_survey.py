from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from survey.imports import import_survey
from survey.widefiles import preview as preview_file


def _count_lines(path):
    """A quick upper bound on the rows, for the progress bar's total."""
    count = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
    return max(count - 1, 0)


class Command(BaseCommand):
    help = (
        "Import survey records from a CSV or XLSX file: the long format (the columns "
        "wave,country,respondent,sector,question,item,answer), or a wide file (one row per "
        "respondent, one column per option) through --mapping and --wave. All or nothing: "
        "any error and nothing is written; the errors are listed with their line."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV (UTF-8) or XLSX file, with a header row.")
        parser.add_argument(
            "--mapping",
            help="For a wide file: a saved column mapping's name, or a preset (limesurvey, "
            "kobo, qualtrics). Without it, a wide file is read through the mapping proposed "
            "from its header.",
        )
        parser.add_argument("--wave", help="For a wide file: the wave's code.")
        parser.add_argument(
            "--preview",
            action="store_true",
            help="Show the mapping and the first rows read back as answers; import nothing.",
        )
        parser.add_argument(
            "--create-wave", action="store_true", help="Create waves the database does not know."
        )
        parser.add_argument(
            "--create-items",
            action="store_true",
            help="Create items the database does not know (never questions).",
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace stored answers that the file gives differently.",
        )
        parser.add_argument(
            "--bulk",
            action="store_true",
            help=(
                "PostgreSQL, for a load as large as what is stored: rebuild survey_response's "
                "key to the respondents and its indexes around the write. Faster, but the "
                "survey's record pages and API wait until the import ends; the initiative "
                "pages and reports do not."
            ),
        )

    def handle(
        self,
        *args,
        file,
        mapping,
        wave,
        preview,
        create_wave,
        create_items,
        replace,
        bulk,
        **options,
    ):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        if preview:
            self._preview(path, mapping)
            return
        bar = None
        if self.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=_count_lines(path), unit=" rows", unit_scale=True, desc="Reading")
        try:
            result = import_survey(
                path,
                mapping=mapping,
                wave=wave,
                create_wave=create_wave,
                create_items=create_items,
                replace=replace,
                bulk=bulk,
                progress=bar.update if bar else None,
            )
        finally:
            if bar is not None:
                bar.close()
        for error in result.errors:
            where = f"line {error['line']}"
            if error.get("cell"):
                where += f", cell {error['cell']}"
            if error["column"]:
                where += f", column {error['column']}"
            self.stderr.write(f"{where}: {error['message']} (value: {error['value']!r})")
        if result.error_count > len(result.errors):
            self.stderr.write(f"... and {result.error_count - len(result.errors)} more problems.")
        if not result.ok:
            raise CommandError(result.summary())
        for code in result.waves_created:
            self.stdout.write(f"Created wave {code}.")
        for code in result.items_created:
            self.stdout.write(f"Created item {code}.")
        self.stdout.write(self.style.SUCCESS(result.summary()))

    def _preview(self, path, mapping):
        try:
            shown = preview_file(path, mapping=mapping, rows=5)
        except LookupError:
            raise CommandError(f"No saved mapping and no preset is named {mapping!r}.") from None
        if shown.kind == "long":
            self.stdout.write("The long format: no mapping needed.")
            return
        described = shown.as_dict()["mapping"]
        if described:
            state = "saved" if described["saved"] else "proposed"
            self.stdout.write(f"Mapping ({state}, preset {described['preset'] or '-'}):")
            for name in ("respondent_column", "country_column", "sector_column", "answered"):
                self.stdout.write(f"  {name}: {described[name]}")
            for line in described["columns"].splitlines():
                self.stdout.write(f"  {line}")
        if shown.ignored:
            self.stdout.write("Ignored columns: " + ", ".join(shown.ignored))
        for answer in shown.answers:
            self.stdout.write(
                "line {line}: {respondent} {country} {sector} {question}/{item}: ".format(**answer)
                + (answer["answer"] or "not answered")
            )
        for error in shown.problems:
            where = error["cell"] or f"line {error['line']}"
            self.stderr.write(f"{where} {error['column']}: {error['message']}")
