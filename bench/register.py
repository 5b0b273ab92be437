"""The register's import and XLSX export, measured on PostgreSQL.

    python bench/register.py import 5000 10000     # import N new initiatives, each N into a
                                                   # fresh empty database
    python bench/register.py importexport 10000    # the same file through django-import-export
    python bench/register.py export [100000]       # XLSX and CSV export of N initiatives
    python bench/register.py writers [100000]      # each file writer alone, on rows already
                                                   # read into memory

The databases are the benchmark's own, on the server named by BENCH_PG: an empty migrated
one (`coprod_bench_register_tpl`), copied afresh for each import
(`coprod_bench_register`), and one holding N generated initiatives for the export
(`coprod_bench_register_export`, `generate_scale_data`, made once). Each measurement runs
in a child process of its own, so that its peak memory (`ru_maxrss`) is the measurement's
alone; it reports wall time, the child's CPU time (the machine may be shared), the
queries it sent, its resident memory before the measured work and its peak, and the load
average around it. Prints one JSON line per measurement.
"""

import csv
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import time

from common import DATA, DJANGO_ENV, PYTHON, ROOT, SERVER, load_average, other_load, psycopg_connect

TEMPLATE = "coprod_bench_register_tpl"
IMPORTED = "coprod_bench_register"
EXPORTED = "coprod_bench_register_export"
IMPORTER = "bench-importer"


def env(database):
    result = dict(os.environ)
    result.update(DJANGO_ENV)
    result["DATABASE_URL"] = f"{SERVER}/{database}"
    result["PYTHONPATH"] = str(ROOT)
    return result


def setup():
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def server_cpu_seconds(pid):
    """CPU time of this connection's PostgreSQL backend, when the server runs on this
    machine (None otherwise): with the child's own, what the work costs on an idle machine."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Queries:
    """Counts the statements sent (DEBUG is off, so Django keeps no list of them)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def measured(work):
    """Run `work()` with the figures every measurement reports."""
    from django.db import connection

    queries = Queries()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    before, load_before = rss_mb(), load_average()
    server = server_cpu_seconds(backend)
    cpu, started = cpu_seconds(), time.perf_counter()
    with connection.execute_wrapper(queries):
        figures = work()
    server_after = server_cpu_seconds(backend)
    return {
        **figures,
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(cpu_seconds() - cpu, 2),
        "server_cpu_seconds": round(server_after - server, 2) if server is not None else None,
        "queries": queries.count,
        "rss_before_mb": round(before, 1),
        "peak_mb": round(peak_mb(), 1),
        "load_before": load_before,
        "load_after": load_average(),
    }


# The databases ------------------------------------------------------------------------


def recreate(name, template=None):
    assert name.startswith("coprod_bench_register")  # only ever the benchmark's own
    with psycopg_connect(dbname="postgres") as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def exists(name):
    with psycopg_connect(dbname="postgres") as conn:
        return bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone())


def manage(database, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env(database), check=True)


def fresh_import_database():
    if not exists(TEMPLATE):
        recreate(TEMPLATE)
        manage(TEMPLATE, "migrate", "--noinput", "-v0")
    recreate(IMPORTED, template=TEMPLATE)


# The file -----------------------------------------------------------------------------


def generate(path, count, seed=1):
    """A register of `count` new initiatives in the export's format, with histories,
    participations, tags and frameworks."""
    from initiatives.exports import columns
    from survey.models import Item

    rng = random.Random(seed)
    factors = list(Item.objects.filter(question__code="factors").values_list("code", flat=True))
    header = [name for name, _meaning in columns()]
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, header)
        writer.writeheader()
        for number in range(count):
            planned = datetime.date(2015, 1, 1) + datetime.timedelta(days=rng.randrange(2000))
            pilot = planned + datetime.timedelta(days=rng.randrange(1, 400))
            history = f"planned:{planned}|pilot:{pilot}"
            if rng.random() < 0.4:
                history += f"|embedded:{pilot + datetime.timedelta(days=rng.randrange(1, 900))}"
            writer.writerow(
                {
                    "title": f"Register initiative {number}",
                    "summary": "Residents and the council run it together.",
                    "country": rng.choice(["FIN", "GBR", "FRA", "DEU", "CAN"]),
                    "sector": f"{rng.randrange(1, 11):02d}",
                    "level": rng.choice(["local", "regional", "national"]),
                    "participation_levels": "design:citizen:group|deliver:cso:collective",
                    "factors": "|".join(rng.sample(factors, 2)),
                    "stage_history": history,
                    "accountable_body": "Council",
                    "funding_sources": "City budget",
                    "funded_beyond_pilot": rng.choice(["yes", "no"]),
                    "budget": str(rng.randrange(1000, 100000)),
                    "currency": "EUR",
                }
            )


def register_file(count):
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"register-{count}.csv"
    if not path.exists():
        subprocess.run(
            [PYTHON, __file__, "child", "generate", str(count), str(path)],
            env=env(TEMPLATE),
            check=True,
        )
    return path


# The measurements (in the child) -------------------------------------------------------


def importer():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser(IMPORTER, f"{IMPORTER}@example.org", None)


def child_import(path):
    from initiatives.imports import import_initiatives
    from initiatives.models import Initiative

    by = importer()

    def work():
        result = import_initiatives(path, by=by)
        assert result.ok, result.errors[:3]
        return {"rows": result.rows, "created": len(result.created)}

    figures = measured(work)
    figures["initiatives_in_database"] = Initiative.objects.count()
    return {"measure": "import", **figures}


def initiative_resource():
    """A minimal django-import-export resource for the initiative's own fields and one tag
    list, references handed out as the site does; no stage history, participations or
    frameworks (the library has no place for them without custom code)."""
    from import_export import fields, resources, widgets

    from initiatives import services
    from initiatives.models import Initiative
    from survey.models import Country, Item, Sector

    class FactorsWidget(widgets.ManyToManyWidget):
        def clean(self, value, row=None, **kwargs):
            codes = [code for code in (value or "").split(self.separator) if code]
            return Item.objects.filter(question__code="factors", code__in=codes)

    class InitiativeResource(resources.ModelResource):
        country = fields.Field("country", "country", widgets.ForeignKeyWidget(Country, "code"))
        sector = fields.Field("sector", "sector", widgets.ForeignKeyWidget(Sector, "code"))
        factors = fields.Field(
            "factors", "factors", FactorsWidget(Item, separator="|", field="code")
        )

        class Meta:
            model = Initiative
            fields = ("reference", "title", "summary", "country", "sector", "level", "factors")
            import_id_fields = ("reference",)
            skip_diff = True

        def before_save_instance(self, instance, row, **kwargs):
            if not instance.reference:
                instance.reference = services.next_reference(year=datetime.date.today().year)

    return InitiativeResource()


def child_importexport(path):
    import tablib

    from initiatives.models import Initiative

    resource = initiative_resource()

    def work():
        with open(path, encoding="utf-8") as file:
            dataset = tablib.Dataset().load(file.read(), format="csv")
        result = resource.import_data(dataset, dry_run=False, raise_errors=True)
        assert not result.has_errors()
        return {"rows": len(dataset), "created": result.totals["new"]}

    figures = measured(work)
    figures["initiatives_in_database"] = Initiative.objects.count()
    return {"measure": "django-import-export", **figures}


def child_export(kind):
    from initiatives.exports import initiatives_csv, initiatives_xlsx
    from initiatives.models import Initiative

    queryset = Initiative.objects.all()
    export = initiatives_xlsx if kind == "xlsx" else initiatives_csv

    def work():
        response = export(queryset)
        return {"bytes": sum(len(chunk) for chunk in response.streaming_content)}

    figures = measured(work)
    return {"measure": f"export-{kind}", "initiatives": queryset.count(), **figures}


def openpyxl_write_only(path, header, rows):
    """The other library the issue names, in its streaming mode, on the same typed rows."""
    from openpyxl import Workbook

    from core.spreadsheets import utc_naive

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("initiatives")
    sheet.freeze_panes = "A2"
    sheet.append(header)
    for row in rows:
        sheet.append(
            [utc_naive(value) if isinstance(value, datetime.datetime) else value for value in row]
        )
    workbook.save(path)


def child_writers():
    """Each writer alone: the rows are read and built first, then only the writing is timed.

    What no choice of query or row building can take away from an export: if the XLSX
    writer alone takes more than 3x the whole CSV export, the goal cannot be met with it.
    """
    import tempfile

    from core.csvfiles import csv_response
    from core.spreadsheets import write_xlsx
    from initiatives.exports import columns, rows
    from initiatives.models import Initiative

    queryset = Initiative.objects.all()
    header = [name for name, _meaning in columns()]
    text, typed = list(rows(queryset)), list(rows(queryset, typed=True))
    cells = sum(1 for row in typed for value in row if value is not None and value != "")
    writers = {
        "csv": lambda file: file.writelines(csv_response("x.csv", header, text).streaming_content),
        "xlsxwriter-constant-memory": lambda file: write_xlsx(file, header, typed),
        "openpyxl-write-only": lambda file: openpyxl_write_only(file, header, typed),
    }
    figures = {"measure": "writers-alone", "initiatives": len(typed), "non_empty_cells": cells}
    for name, write in writers.items():
        with tempfile.TemporaryFile() as file:
            cpu, started = cpu_seconds(), time.perf_counter()
            write(file)
            figures[name] = {
                "seconds": round(time.perf_counter() - started, 2),
                "cpu_seconds": round(cpu_seconds() - cpu, 2),
                "bytes": file.tell(),
            }
    figures["load_after"] = load_average()
    return figures


def in_child(database, *args):
    output = subprocess.run(
        [PYTHON, __file__, "child", *args],
        check=True,
        capture_output=True,
        text=True,
        env=env(database),
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def report(figures):
    figures["busiest_processes"] = other_load()
    print(json.dumps(figures), flush=True)


def main(argv):
    if argv[0] == "child":
        setup()
        if argv[1] == "generate":
            generate(argv[3], int(argv[2]))
            return
        if argv[1] == "writers":
            print(json.dumps(child_writers()))
            return
        child = {"import": child_import, "importexport": child_importexport}.get(argv[1])
        print(json.dumps(child(argv[2]) if child else child_export(argv[2])))
        return
    if argv[0] in ("import", "importexport"):
        for count in map(int, argv[1:]):
            fresh_import_database()
            report(in_child(IMPORTED, argv[0], str(register_file(count))))
    elif argv[0] in ("export", "writers"):
        count = int(argv[1]) if len(argv) > 1 else 100_000
        if not exists(EXPORTED):
            recreate(EXPORTED)
            manage(EXPORTED, "migrate", "--noinput", "-v0")
            manage(EXPORTED, "generate_scale_data", f"--initiatives={count}", "--responses=0")
        if argv[0] == "writers":
            report(in_child(EXPORTED, "writers"))
            return
        for kind in ("csv", "xlsx"):
            report(in_child(EXPORTED, "export", kind))


if __name__ == "__main__":
    main(sys.argv[1:])
