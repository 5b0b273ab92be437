"""Several instances, proven: two gunicorn instances of coprod on two ports, one PostgreSQL
database, Redis as the shared cache, driven over HTTP as a load balancer would.

- a change made through instance 1 is on instance 2's pages, reports and API at the next
  request (its page and report caches included);
- rate limits, API throttles and the sign-in lockout count across both;
- a session started on one is valid on the other;
- killing an instance mid-request loses no write it acknowledged.

docs/DEPLOY.md points here as the proof of its "several stateless instances" arrangement.
Redis: TEST_REDIS_URL (default redis://127.0.0.1:6379/1), a database this test may empty;
`.ci/run` starts Redis if it is down.
"""

import csv
import datetime
import io
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from initiatives.models import Activity, ApiToken, Initiative, ReviewStatus
from tests.factories import StaffFactory, make_initiative

pytestmark = [
    pytest.mark.multi_instance,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
PASSWORD = "multi-instance-password-1"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url():
    config = connection.settings_dict
    password = f":{config['PASSWORD']}" if config["PASSWORD"] else ""
    host, port = config["HOST"] or "127.0.0.1", config["PORT"] or 5432
    return f"postgres://{config['USER'] or 'postgres'}{password}@{host}:{port}/{config['NAME']}"


class Instance:
    """One gunicorn instance of coprod, as docs/DEPLOY.md runs it (smaller)."""

    def __init__(self, env, name):
        self.env, self.name = env, name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
            [
                sys.executable,
                "-m",
                "gunicorn",
                "coprod_site.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "gthread",
                "--workers",
                "2",
                "--threads",
                "2",
                "--timeout",
                "60",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=10).status_code == 200:
                    return self
            except requests.RequestException:  # not listening yet, or busy starting
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"instance {self.name} did not start on port {self.port}")

    def kill(self):
        """SIGKILL the whole instance (arbiter and workers), as a crashed machine."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def instances(django_db_setup, django_db_blocker, tmp_path_factory):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.skip("several instances share one PostgreSQL database")
        database_url = _database_url()
    import redis

    shared = redis.Redis.from_url(REDIS_URL)
    try:
        shared.ping()
    except redis.ConnectionError as error:
        raise AssertionError(f"Redis is not running at {REDIS_URL} (.ci/run starts it)") from error
    shared.flushdb()
    static_root = tmp_path_factory.mktemp("static")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))},
        "DJANGO_SETTINGS_MODULE": "coprod_site.settings",
        "DEBUG": "false",
        "SECRET_KEY": "multi-instance-test-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "DATABASE_URL": database_url,
        "CACHE_URL": REDIS_URL,
        "REPORT_CACHE_URL": REDIS_URL,
        "STATIC_ROOT": str(static_root),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "RATELIMIT_SIGNUP": "3/h",
        "API_THROTTLE_ANON": "6/minute",
        "AXES_FAILURE_LIMIT": "3",
        "CONN_MAX_AGE": "0",
    }
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 0, collected.stderr
    pair = [Instance(env, "1"), Instance(env, "2")]
    try:
        for instance in pair:
            instance.start()
        yield pair
    finally:
        for instance in pair:
            instance.kill()
        shared.flushdb()


@pytest.fixture
def staff():
    user = StaffFactory(email="officer@example.org", username="officer@example.org")
    # Hashed as the instances check it (the test settings hash with a fast MD5 instead).
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(PASSWORD, hasher.salt())
    user.save()
    return user


@pytest.fixture
def token(staff):
    _, key = ApiToken.issue(user=staff, name="multi-instance")
    return {"Authorization": f"Token {key}"}


@pytest.fixture
def published(staff):
    return make_initiative(by=staff, title="Shared walks", review_status=ReviewStatus.PUBLISHED)


def _stage_counts(base):
    response = requests.get(f"{base}/reports/maturity/?format=csv&table=stages", timeout=30)
    assert response.status_code == 200
    return {row["stage"]: row["initiatives"] for row in csv.DictReader(io.StringIO(response.text))}


def test_a_change_through_one_instance_is_on_the_others_next_request(instances, published, token):
    one, two = instances
    case = f"{two.url}/initiatives/{published.reference}/"
    api = f"{two.url}/api/initiatives/{published.reference}/"
    # Instance 2 has served (and cached) every view before the change.
    before = _stage_counts(two.url)
    assert _stage_counts(two.url) == before
    assert "Shared walks" in requests.get(f"{two.url}/initiatives/", timeout=30).text
    assert requests.get(case, timeout=30).status_code == 200
    assert requests.get(api, headers=token, timeout=30).json()["stage"] == "planned"

    moved = requests.post(
        f"{one.url}/api/initiatives/{published.reference}/stage/",
        json={"to_stage": "pilot", "reason": "Funding came.", "date": str(datetime.date.today())},
        headers=token,
        timeout=30,
    )
    assert moved.status_code == 201, moved.text

    after = _stage_counts(two.url)
    assert int(after["pilot"]) == int(before["pilot"]) + 1
    assert int(after["planned"]) == int(before["planned"]) - 1
    assert "Funding came." in requests.get(case, timeout=30).text
    assert requests.get(api, headers=token, timeout=30).json()["stage"] == "pilot"


def _form(session, url):
    page = session.get(url, timeout=30)
    assert page.status_code == 200, url
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def test_rate_limits_and_throttles_count_across_instances(instances):
    one, two = instances
    session = requests.Session()
    statuses = []
    for attempt in range(4):
        instance = (one, two)[attempt % 2]
        token = _form(session, f"{instance.url}/accounts/signup/")
        response = session.post(
            f"{instance.url}/accounts/signup/",
            data={"csrfmiddlewaretoken": token, "username": ""},
            headers={"Referer": f"{instance.url}/accounts/signup/"},
            timeout=30,
        )
        statuses.append(response.status_code)
    assert 429 not in statuses[:3]
    assert statuses[3] == 429  # the fourth, on instance 2, counts the three before it

    api = [
        requests.get(f"{(one, two)[n % 2].url}/api/vocabulary/sectors/", timeout=30).status_code
        for n in range(7)
    ]
    assert api[:6] == [200] * 6
    assert api[6] == 429


def _sign_in(session, instance, password):
    token = _form(session, f"{instance.url}/accounts/login/")
    return session.post(
        f"{instance.url}/accounts/login/",
        data={
            "csrfmiddlewaretoken": token,
            "username": "officer@example.org",
            "password": password,
        },
        headers={"Referer": f"{instance.url}/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )


def test_a_session_from_one_instance_is_valid_on_the_other(instances, staff):
    one, two = instances
    session = requests.Session()
    signed_in = _sign_in(session, one, PASSWORD)
    assert signed_in.status_code == 302
    account = session.get(f"{two.url}/account/", allow_redirects=False, timeout=30)
    assert account.status_code == 200
    assert "officer@example.org" in account.text


def test_the_sign_in_lockout_counts_across_instances(instances, staff):
    one, two = instances
    for attempt in range(3):
        failed = _sign_in(requests.Session(), (one, two)[attempt % 2], "wrong password")
        assert failed.status_code in (200, 403, 429)
    # The right password, on the instance that saw only one failure: locked out all the same.
    locked = _sign_in(requests.Session(), two, PASSWORD)
    assert locked.status_code != 302
    assert "locked" in locked.text.lower() or locked.status_code in (403, 429)


def test_killing_an_instance_mid_request_loses_no_acknowledged_write(instances, published, token):
    one, two = instances
    url = f"/api/initiatives/{published.reference}/activities/"
    acknowledged, stop = [], threading.Event()

    def write(instance, prefix):
        number = 0
        while not stop.is_set():
            number += 1
            text = f"{prefix} {number}"
            try:
                response = requests.post(
                    f"{instance.url}{url}",
                    json={"kind": "note", "text": text},
                    headers=token,
                    timeout=30,
                )
            except requests.RequestException:
                if instance is one:
                    return  # the instance is gone; its unanswered write may or may not be in
                continue
            if response.status_code == 201:
                acknowledged.append(text)

    writers = [threading.Thread(target=write, args=(one, f"one-{n}")) for n in range(3)] + [
        threading.Thread(target=write, args=(two, "two"))
    ]
    for thread in writers:
        thread.start()
    time.sleep(3)
    try:
        one.kill()  # mid-request: three writers are talking to it
        time.sleep(1)
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=60)
        one.start()  # for whatever runs after
    assert any(text.startswith("one-") for text in acknowledged)
    stored = set(Activity.objects.filter(initiative=published).values_list("text", flat=True))
    lost = [text for text in acknowledged if text not in stored]
    assert lost == []
    # Instance 2 goes on serving, and shows what instance 1 acknowledged.
    listed = requests.get(f"{two.url}{url}?page_size=200", headers=token, timeout=30)
    assert listed.status_code == 200
    seen = {entry["text"] for entry in listed.json()["results"]}
    assert {text for text in acknowledged if text.startswith("one-")} <= seen | stored
    assert Initiative.objects.filter(pk=published.pk).exists()
