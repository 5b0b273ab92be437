"""Soak: gunicorn (gthread) on 127.0.0.1 under a bounded mixed load, then an audit.

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 8] [--workers 2] [--threads 4]

It creates a throwaway PostgreSQL database (BENCH_PG, default
postgres://postgres@127.0.0.1:5432), migrates it, seeds a little data, starts gunicorn and
runs `--clients` client threads for `--minutes` minutes, each picking at random:
reads (public list, case page, API list and detail, reports, /healthz), writes through
the API (create; PATCH with If-Match, each client editing only its own initiatives),
exports (initiatives CSV, survey indicators) and imports (small survey files through the
API, each with new respondents). Every request is to 127.0.0.1 and the loop stops by
itself. Then it checks:

- no response was a 5xx (and counts other failures),
- every acknowledged write is in the database: each 201 create exists, each initiative
  has the title of its last acknowledged PATCH, and every acknowledged imported answer
  is there,
- the resident memory of each gunicorn worker, sampled every 10 s, is flat: growth
  from the end of the first fifth of the run to the end under 20%.

The results are printed and written to bench/results/soak.json; docs/RELIABILITY.md
records a run. The database is dropped at the end.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
RESULTS = ROOT / "bench" / "results"

SEED = r"""
import json
from django.contrib.auth import get_user_model
from initiatives.models import ApiToken, Membership, Organisation, ReviewStatus, Initiative
from initiatives import services
from survey.models import Country, Sector, Wave
User = get_user_model()
staff = User.objects.create_user("soak-staff", "staff@example.org", "x", is_staff=True,
                                 is_superuser=True)
member = User.objects.create_user("soak-member", "member@example.org", "x")
org = Organisation.objects.create(name="Soak group", kind="citizens_group",
                                  country=Country.objects.get(code="FIN"))
Membership.objects.create(user=member, organisation=org, role="admin", status="active")
refs = []
for n in range(30):
    i = services.initiative_create(by=member, title=f"Soak initiative {n}", summary="s",
        description="d", country=Country.objects.get(code="FIN"),
        sector=Sector.objects.get(code="07"), level="local", organisation=org)
    Initiative.objects.filter(pk=i.pk).update(review_status=ReviewStatus.PUBLISHED)
    refs.append(i.reference)
Wave.objects.create(code="SOAK", title="Soak wave", year=2026)
_, staff_key = ApiToken.issue(user=staff, name="soak")
_, member_key = ApiToken.issue(user=member, name="soak")
print("SEED" + json.dumps({"staff": staff_key, "member": member_key, "org": org.pk,
                           "refs": refs}))
"""


def run(command, env, **kwargs):
    return subprocess.run(command, cwd=ROOT, env=env, check=True, **kwargs)


class Load:
    def __init__(self, base, seed, deadline, clients):
        self.base = base
        self.seed = seed
        self.deadline = deadline
        self.clients = clients
        self.lock = threading.Lock()
        self.statuses = Counter()
        self.by_kind = Counter()
        self.server_errors = []
        self.other_failures = []
        self.created = []  # references acknowledged with 201
        self.last_title = {}  # reference -> title of the last acknowledged PATCH
        self.imported = set()  # (respondent code, item code) acknowledged by an import
        self.conflicts = 0

    def note(self, kind, response, expected=(200,)):
        with self.lock:
            self.statuses[response.status_code] += 1
            self.by_kind[kind] += 1
            if response.status_code >= 500:
                self.server_errors.append((kind, response.status_code, response.text[:300]))
            elif response.status_code not in expected:
                self.other_failures.append((kind, response.status_code, response.text[:300]))

    def client(self, number):
        session = requests.Session()
        member = {"Authorization": f"Token {self.seed['member']}"}
        staff = {"Authorization": f"Token {self.seed['staff']}"}
        mine = []  # initiatives this client created and alone edits
        rng = random.Random(number)
        serial = 0
        while time.monotonic() < self.deadline:
            serial += 1
            roll = rng.random()
            ref = rng.choice(self.seed["refs"])
            try:
                if roll < 0.40:
                    path = rng.choice(
                        [
                            "/initiatives/",
                            f"/initiatives/{ref}/",
                            "/api/initiatives/",
                            f"/api/initiatives/{ref}/",
                            "/reports/maturity/",
                            "/healthz",
                        ]
                    )
                    self.note("read", session.get(self.base + path, timeout=60))
                elif roll < 0.55 or not mine:
                    body = {
                        "title": f"Soak {number}-{serial}",
                        "country": "FIN",
                        "sector": "07",
                        "level": "local",
                        "organisation": self.seed["org"],
                    }
                    response = session.post(
                        self.base + "/api/initiatives/", json=body, headers=member, timeout=60
                    )
                    self.note("create", response, expected=(201,))
                    if response.status_code == 201:
                        reference = response.json()["reference"]
                        mine.append(reference)
                        with self.lock:
                            self.created.append(reference)
                elif roll < 0.80:
                    reference = rng.choice(mine)
                    url = f"{self.base}/api/initiatives/{reference}/"
                    current = session.get(url, headers=member, timeout=60)
                    self.note("read", current)
                    title = f"Edited {number}-{serial}"
                    response = session.patch(
                        url,
                        json={"title": title},
                        headers={**member, "If-Match": current.headers.get("ETag", "")},
                        timeout=60,
                    )
                    self.note("patch", response, expected=(200, 412))
                    if response.status_code == 200:
                        with self.lock:
                            self.last_title[reference] = title
                    elif response.status_code == 412:
                        with self.lock:
                            self.conflicts += 1
                elif roll < 0.92:
                    path = rng.choice(
                        [
                            "/initiatives/export.csv",
                            "/api/survey/indicators/?wave=SOAK&question=barriers",
                            "/reports/indicators.csv?wave=SOAK&question=barriers",
                        ]
                    )
                    response = session.get(self.base + path, timeout=120)
                    self.note("export", response)
                else:
                    respondent = f"r-{number}-{serial}-{uuid.uuid4().hex[:6]}"
                    lines = ["wave,country,respondent,sector,question,item,answer"]
                    answers = {"resources": "yes", "resistance": "no", "evidence": "yes"}
                    for item, value in answers.items():
                        lines.append(f"SOAK,FIN,{respondent},07,barriers,{item},{value}")
                    files = {"file": ("soak.csv", "\n".join(lines) + "\n", "text/csv")}
                    response = session.post(
                        self.base + "/api/survey/responses/import/",
                        files=files,
                        headers=staff,
                        timeout=120,
                    )
                    self.note("import", response, expected=(201,))
                    if response.status_code == 201:
                        with self.lock:
                            self.imported.update((respondent, item) for item in answers)
            except requests.RequestException as error:
                with self.lock:
                    self.other_failures.append(("connection", 0, str(error)[:300]))


def worker_rss(master_pid):
    """Resident memory (KiB) of each gunicorn worker (children of the master)."""
    sizes = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid):
            sizes[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    return sizes


def audit(database_url, load):
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT reference, title FROM initiatives_initiative").fetchall()
        titles = dict(rows)
        answers = set(
            connection.execute(
                "SELECT r.code, i.code FROM survey_response s "
                "JOIN survey_respondent r ON r.id = s.respondent_id "
                "JOIN survey_item i ON i.id = s.item_id "
                "JOIN survey_wave w ON w.id = r.wave_id WHERE w.code = 'SOAK'"
            ).fetchall()
        )
    lost_creates = [ref for ref in load.created if ref not in titles]
    lost_edits = [ref for ref, title in load.last_title.items() if titles.get(ref) != title]
    lost_imports = sorted(load.imported - answers)
    return lost_creates, lost_edits, lost_imports


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    server = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    name = f"coprod_soak_{os.getpid()}"
    database_url = f"{server}/{name}"
    admin = psycopg.connect(f"{server}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    static_root = Path(tempfile.mkdtemp(prefix="soak-static-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "soak-test-key-not-for-production-0123456789abcdefghijklmnop",
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "STATIC_ROOT": str(static_root),
        "MEDIA_ROOT": str(static_root / "media"),
        "CONN_MAX_AGE": "60",
        # The load comes from one address: lift the per-client limits it would hit.
        "API_THROTTLE_ANON": "1000000/minute",
        "API_THROTTLE_USER": "1000000/minute",
        "RATELIMIT_ENABLE": "false",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = None
    try:
        run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], env)
        run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], env)
        seeded = run([PYTHON, "manage.py", "shell", "-c", SEED], env, capture_output=True)
        line = next(x for x in seeded.stdout.decode().splitlines() if x.startswith("SEED"))
        seed = json.loads(line[4:])
        RESULTS.mkdir(exist_ok=True)
        log = open(Path(tempfile.gettempdir()) / "coprod-soak-gunicorn.log", "w")  # noqa: SIM115 - closed below
        gunicorn = subprocess.Popen(
            [
                GUNICORN,
                "coprod_site.wsgi",
                "--worker-class",
                "gthread",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--bind",
                f"127.0.0.1:{args.port}",
                "--timeout",
                "120",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(60):
            try:
                if requests.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(1)
        started = time.monotonic()
        deadline = started + args.minutes * 60
        load = Load(base, seed, deadline, args.clients)
        threads = [
            threading.Thread(target=load.client, args=(n,), daemon=True)
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        samples = []
        while time.monotonic() < deadline:
            samples.append((round(time.monotonic() - started), worker_rss(gunicorn.pid)))
            time.sleep(10)
        for thread in threads:
            thread.join(timeout=180)
        samples.append((round(time.monotonic() - started), worker_rss(gunicorn.pid)))
        elapsed = time.monotonic() - started
        lost_creates, lost_edits, lost_imports = audit(database_url, load)

        warm = next(s for t, s in samples if t >= elapsed / 5)
        end = samples[-1][1]
        growth = {
            pid: round(100 * (end[pid] - warm[pid]) / warm[pid], 1) for pid in end if pid in warm
        }
        requests_total = sum(load.statuses.values())
        result = {
            "minutes": args.minutes,
            "clients": args.clients,
            "gunicorn": f"gthread, {args.workers} workers x {args.threads} threads",
            "requests": requests_total,
            "requests_per_second": round(requests_total / elapsed, 1),
            "by_kind": dict(load.by_kind),
            "statuses": {str(k): v for k, v in sorted(load.statuses.items())},
            "server_errors": len(load.server_errors),
            "server_error_samples": load.server_errors[:5],
            "other_failures": len(load.other_failures),
            "other_failure_samples": load.other_failures[:5],
            "acknowledged_creates": len(load.created),
            "acknowledged_edits": len(load.last_title),
            "edit_conflicts_412": load.conflicts,
            "acknowledged_imported_answers": len(load.imported),
            "lost_creates": lost_creates,
            "lost_edits": lost_edits,
            "lost_imports": lost_imports[:20],
            "worker_rss_kib_warm": warm,
            "worker_rss_kib_end": end,
            "worker_rss_growth_percent": growth,
            "rss_samples": samples,
        }
        (RESULTS / "soak.json").write_text(json.dumps(result, indent=1, default=str))
        summary = {k: v for k, v in result.items() if k != "rss_samples"}
        print(json.dumps(summary, indent=1, default=str))
        ok = (
            not load.server_errors
            and not (lost_creates or lost_edits or lost_imports)
            and all(value < 20 for value in growth.values())
        )
        print("SOAK", "PASSED" if ok else "FAILED")
        return 0 if ok else 1
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=60)
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


if __name__ == "__main__":
    sys.exit(main())
