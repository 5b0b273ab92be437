"""The register's import and XLSX export, measured on PostgreSQL.

    python bench/register.py import N        # import N new initiatives from a generated CSV
    python bench/register.py export          # XLSX and CSV export of what the database holds

Each measurement runs in a child process of its own, so that its peak memory
(`ru_maxrss`) is the measurement's alone. DATABASE_URL names the database (a throwaway one:
the import writes into it). Prints one JSON line per measurement.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"


def setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coprod_site.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path, count, seed=1):
    """A register of `count` new initiatives in the export's format, with histories,
    participations, tags and frameworks."""
    setup()
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


def child_import(path):
    setup()
    from initiatives.imports import import_initiatives

    started = time.perf_counter()
    result = import_initiatives(path, by=None)
    elapsed = time.perf_counter() - started
    assert result.ok, result.errors[:3]
    return {
        "measure": "import",
        "rows": result.rows,
        "created": len(result.created),
        "seconds": round(elapsed, 2),
        "peak_mb": round(peak_mb(), 1),
    }


def child_export(kind):
    setup()
    from initiatives.exports import initiatives_csv, initiatives_xlsx
    from initiatives.models import Initiative

    queryset = Initiative.objects.all()
    started = time.perf_counter()
    response = (initiatives_xlsx if kind == "xlsx" else initiatives_csv)(queryset)
    size = sum(len(chunk) for chunk in response.streaming_content)
    elapsed = time.perf_counter() - started
    return {
        "measure": f"export-{kind}",
        "initiatives": queryset.count(),
        "bytes": size,
        "seconds": round(elapsed, 2),
        "peak_mb": round(peak_mb(), 1),
    }


def in_child(*args):
    output = subprocess.run(
        [sys.executable, __file__, "child", *args], check=True, capture_output=True, text=True
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main(argv):
    if argv[0] == "child":
        if argv[1] == "import":
            print(json.dumps(child_import(argv[2])))
        else:
            print(json.dumps(child_export(argv[2])))
        return
    if argv[0] == "import":
        count = int(argv[1])
        DATA.mkdir(parents=True, exist_ok=True)
        path = DATA / f"register-{count}.csv"
        generate(path, count)
        print(json.dumps(in_child("import", str(path))))
    elif argv[0] == "export":
        for kind in ("csv", "xlsx"):
            print(json.dumps(in_child("export", kind)))


if __name__ == "__main__":
    main(sys.argv[1:])
