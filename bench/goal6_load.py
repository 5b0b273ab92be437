"""Goal 6: under load. gunicorn (gthread) on 127.0.0.1 and wrk, 16 connections, 60 s a page.

    python bench/goal6_load.py [--quick]

/healthz runs in the same session as the ceiling: what the stack serves when the page does
nothing but one `SELECT 1`. Then a 60-second export is read slowly while wrk loads the
public list, to show that a long download is not killed by gunicorn's worker timeout.
Traffic goes to 127.0.0.1 only; every loop is bounded in time.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from common import DATA, PYTHON, SRC, env_for, save, scale_from_argv
from pages import parameters, url

LOAD_PAGES = [
    ("/healthz (ceiling)", "/healthz"),
    ("public list", "/initiatives/"),
    ("case page", "/initiatives/{reference}/"),
    ("API list", "/api/initiatives/"),
    ("indicator report", "/reports/indicators/?wave={wave}&question=barriers"),
    ("maturity pipeline", "/reports/maturity/"),
]
EXPORT = "/initiatives/export.csv"
WORKERS, THREADS, TIMEOUT = 2, 4, 30


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, scale, size, *, log="gunicorn.log", **settings):
        self.port = free_port()
        self.log = DATA / log
        self.env = env_for(scale, size, CONN_MAX_AGE="60", **settings)

    def __enter__(self):
        self.log_file = open(self.log, "w")
        self.process = subprocess.Popen(
            [
                str(Path(PYTHON).parent / "gunicorn"),
                "coprod_site.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                "--worker-class=gthread",
                f"--workers={WORKERS}",
                f"--threads={THREADS}",
                f"--timeout={TIMEOUT}",
                "--log-level=warning",
            ],
            cwd=SRC,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if self.get("/healthz")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer; see {self.log}")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log_file.close()

    def get(self, path, timeout=30, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, body

    def base(self):
        return f"http://127.0.0.1:{self.port}"


def wrk(base, path, seconds, headers=()):
    """wrk's figures for `seconds` of 16 connections on `path`; headers: ("Name: value", ...)."""
    done = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c16",
            f"-d{seconds}s",
            "--timeout=10s",
            "--latency",
            *(f"--header={header}" for header in headers),
            base + path,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    return parse_wrk(done.stdout)


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(number) * UNITS[unit], 2)


def parse_wrk(output):
    result = {"raw": output.strip().splitlines()}
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    for percent in ("50", "90", "99"):
        match = re.search(rf"^\s+{percent}%\s+(\S+)", output, re.MULTILINE)
        result[f"p{percent}_ms"] = _ms(match.group(1)) if match else None
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    counts = [int(x) for x in errors.groups()] if errors else [0, 0, 0, 0]
    result["socket_errors"] = sum(counts[:3])
    result["timeouts"] = counts[3]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    result["errors"] = result["socket_errors"] + result["non_2xx"]
    return result


def slow_download(server, path, seconds, size, box):
    """Read the export at a pace that makes it last `seconds`, as a slow client would."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    connection.request("GET", path)
    response = connection.getresponse()
    box["status"] = response.status
    read = 0
    rate = max(1, size / seconds)
    while chunk := response.read(64 * 1024):
        read += len(chunk)
        ahead = read / rate - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(min(ahead, 5))
        if time.monotonic() - started > seconds * 3:
            break  # bounded: never hang the benchmark
    connection.close()
    box.update(bytes=read, seconds=round(time.monotonic() - started, 1))


def main():
    scale = scale_from_argv()
    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", 60 if scale == "full" else 15))
    params = parameters(scale, "large")
    results = {"pages": {}, "seconds_per_page": seconds, "gunicorn": {}}
    results["gunicorn"] = {"workers": WORKERS, "threads": THREADS, "timeout": TIMEOUT}
    with Gunicorn(scale, "large") as server:
        for name, template in LOAD_PAGES:
            path = url(template, params)
            status, _ = server.get(path, timeout=120)  # warm the workers and check the page
            if status != 200:
                results["pages"][name] = {"path": path, "skipped": f"HTTP {status}"}
                print(f"{name}: HTTP {status}, skipped", flush=True)
                continue
            results["pages"][name] = {"path": path, **wrk(server.base(), path, seconds)}
            page = results["pages"][name]
            print(
                f"{name}: {page['rps']} rps, p50 {page['p50_ms']} ms, p99 {page['p99_ms']} ms, "
                f"errors {page['errors']}, timeouts {page['timeouts']}",
                flush=True,
            )
        status, body = server.get(EXPORT, timeout=600)
        if status == 200:
            size = len(body)
            box = {}
            reader = threading.Thread(
                target=slow_download, args=(server, EXPORT, seconds + 5, size, box)
            )
            reader.start()
            load = wrk(server.base(), url("/initiatives/", params), seconds)
            reader.join(timeout=seconds * 4)
            log = server.log.read_text() if server.log.exists() else ""
            results["export_under_load"] = {
                "path": EXPORT,
                "expected_bytes": size,
                **box,
                "complete": box.get("bytes") == size and box.get("status") == 200,
                "worker_timeouts_in_log": log.count("WORKER TIMEOUT"),
                "load_meanwhile": {k: load[k] for k in ("rps", "p50_ms", "p99_ms", "errors")},
            }
            print("export under load:", results["export_under_load"], flush=True)
        else:
            results["export_under_load"] = {"path": EXPORT, "skipped": f"HTTP {status}"}
    save(scale, "goal6", results)


if __name__ == "__main__":
    main()
