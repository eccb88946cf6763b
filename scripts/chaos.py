"""`make chaos`: break the production stack on purpose and write docs/chaos.md from what the script measures.

Three scenarios, each on its own account and storage folder, all on 127.0.0.1:

- worker crash: a Celery worker is SIGKILLed (its whole process tree) while it runs a generation, another one is
  started, and every accepted generation must end terminal;
- broker outage: the stack's Redis (a throwaway redis-server started here, never the shared one) is killed and
  restarted empty mid-stream, so queued messages are lost; the reaper must send the PENDING rows again;
- database outage: the stack reaches PostgreSQL through a small TCP proxy run by this script, which cuts every
  connection and refuses new ones for 10 s; the API must answer 503 `SERVICE_UNAVAILABLE` JSON meanwhile.

After each: generations stuck in PENDING/PROCESSING, accepted generations missing from the database, rows nobody
accepted, result objects beyond one per generation, and ledger rows per generation (one reserve, plus one refund
only for FAILED) are counted. All must be 0. Nothing in the document is typed by hand: rerun to refresh it.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psutil
import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._stack import database_url, free_port, machine, manage, stack_env, web  # noqa: E402

OUT = ROOT / "docs" / "chaos.md"
SAMPLES = ROOT / "docs" / "samples"
TERMINAL = ("COMPLETED", "FAILED")
# The slow engine makes "mid-generation" a window of seconds instead of a race; a short visibility timeout
# makes the broker hand a dead worker's message back within the run (it stays above the engine's duration so a
# live task is never delivered twice).
BASE = {
    "TRYON_ENGINE": "slow",
    "TRYON_EXTRA_ENGINES": "slow=tests.generations.slow_engine.SlowEngine",
    "TRYON_RATE_LIMIT_PER_MINUTE": "100000000",
    "CELERY_VISIBILITY_TIMEOUT": "20",
    "TRYON_HOSTED_TIMEOUT_SECONDS": "5",
    "CELERY_TASK_SOFT_TIME_LIMIT": "20",
    "CELERY_TASK_TIME_LIMIT": "30",
    "TRYON_REAPER_PENDING_AFTER_SECONDS": "5",
    "TRYON_REAPER_INTERVAL_SECONDS": "5",
}


# --- processes -----------------------------------------------------------------------------------------------------


class Redis:
    """A throwaway redis-server without persistence: a restart comes back empty, like a lost broker."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.1)
        raise RuntimeError("throwaway redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)


class PgProxy:
    """A TCP proxy in front of PostgreSQL, on an event loop in a thread. `cut()` aborts every open connection
    and stops listening (new connections are refused); `restore()` listens again on the same port."""

    def __init__(self, target_port: int = 5432) -> None:
        self.port = free_port()
        self.target_port = target_port
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.AbstractServer | None = None
        self.transports: set[asyncio.BaseTransport] = set()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            # The other side or cut() closed it: this direction is over, and the peer sees the reset, which is
            # what an unreachable database looks like to the stack.
            return
        finally:
            writer.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        pair = (writer.transport, up_writer.transport)
        self.transports.update(pair)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self.transports.difference_update(pair)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def restore(self) -> None:
        async def listen():
            self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, reuse_address=True)

        self._call(listen())

    def cut(self) -> None:
        async def drop():
            self.server.close()
            await self.server.wait_closed()
            for transport in list(self.transports):
                transport.abort()

        self._call(drop())

    def url(self) -> str:
        return database_url().replace("127.0.0.1:5432", f"127.0.0.1:{self.port}")


def _spawn(env: dict[str, str], args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tryon_project", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("a"),
    )


def worker(env: dict[str, str], name: str, var_dir: Path, **extra: str) -> subprocess.Popen:
    return _spawn(
        {**env, **extra},
        [
            "worker",
            "--concurrency",
            "1",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
            "-n",
            f"{name}@%h",
        ],
        var_dir / f"{name}.log",
    )


def beat(env: dict[str, str], var_dir: Path) -> subprocess.Popen:
    return _spawn(env, ["beat", "--loglevel", "WARNING", "-s", str(var_dir / "beat-schedule")], var_dir / "beat.log")


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL the process and every child (a prefork worker's pool processes too): what a lost machine does."""
    try:
        members = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    for member in members:
        try:
            member.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess:
            continue
    process.wait(10)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            kill_tree(process)


# --- the API -------------------------------------------------------------------------------------------------------


class Client:
    def __init__(self, port: int, key: str) -> None:
        self.base = f"http://127.0.0.1:{port}/tryon/v1"
        self.session = requests.Session()
        self.session.headers["x-api-key"] = key
        self.person = (SAMPLES / "person.jpg").read_bytes()
        self.garment = (SAMPLES / "tshirt.jpg").read_bytes()
        self.image_id = ""

    def prepare(self) -> None:
        product = self.session.post(
            f"{self.base}/products",
            timeout=60,
            files={
                "data": (
                    None,
                    '{"externalId": "chaos-tee", "title": "Tee", "category": "tops", "images": [{"fileKey": "g"}]}',
                    "application/json",
                ),
                "g": ("g.jpg", self.garment, "image/jpeg"),
            },
        )
        assert product.status_code in (200, 201), product.text
        upload = self.session.post(
            f"{self.base}/images/upload",
            timeout=60,
            data={"crop": "true"},
            files={"file": ("me.jpg", self.person, "image/jpeg")},
        )
        assert upload.status_code == 201, upload.text
        self.image_id = upload.json()["imageId"]

    def try_on(self) -> requests.Response:
        return self.session.post(
            f"{self.base}/try-on",
            timeout=60,
            json={"product": {"externalId": "chaos-tee"}, "customer": {"id": self.image_id}},
        )


class Stream:
    """One client sending a try-on and a poll of the last accepted generation every `interval` seconds, noting
    the time, status, JSON error code and latency of each response."""

    def __init__(self, client: Client, interval: float = 0.3) -> None:
        self.client = client
        self.interval = interval
        self.accepted: list[str] = []
        self.responses: list[tuple[float, str, int, str, float]] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _note(self, kind: str, call) -> requests.Response | None:
        started = time.monotonic()
        try:
            response = call()
        except requests.RequestException as exc:
            self.responses.append((started, kind, 0, type(exc).__name__, time.monotonic() - started))
            return None
        code = ""
        if response.status_code >= 400:
            try:
                code = response.json().get("code", "?")
            except ValueError:
                code = "not-json"
        self.responses.append((started, kind, response.status_code, code, time.monotonic() - started))
        return response

    def _run(self) -> None:
        while not self.stopping.is_set():
            response = self._note("POST /try-on", self.client.try_on)
            if response is not None and response.status_code == 202:
                self.accepted.append(response.json()["generationId"])
            if self.accepted:
                last = self.accepted[-1]
                self._note(
                    "GET /generations/{id}",
                    lambda last=last: self.client.session.get(f"{self.client.base}/generations/{last}", timeout=60),
                )
            self.stopping.wait(self.interval)

    def __enter__(self) -> Stream:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(90)

    def window(self, start: float, end: float) -> list[tuple[float, str, int, str, float]]:
        return [r for r in self.responses if start <= r[0] < end]


def statuses(responses) -> str:
    counts = collections.Counter(
        f"{status} {code}".strip() if status else f"no response ({code})" for _, _, status, code, _ in responses
    )
    return ", ".join(f"{label}: {n}" for label, n in sorted(counts.items())) or "none"


def first_ok_after(stream: Stream, moment: float) -> float | None:
    """Seconds from `moment` to the start of the first request after it that succeeded (2xx)."""
    times = [t for t, _, status, _, _ in stream.responses if t >= moment and 200 <= status < 300]
    return min(times) - moment if times else None


# --- the database's view -------------------------------------------------------------------------------------------


def account_key(env: dict[str, str], name: str) -> str:
    return manage(
        env, "create_account", f"{name}-{int(time.time())}", "--credits", "100000", "--rate-limit", "100000000"
    )


def rows(ids: list[str]) -> dict[str, tuple[str, int, str]]:
    with psycopg.connect(database_url()) as conn:
        return {
            gid: (status, attempts, result)
            for gid, status, attempts, result in conn.execute(
                "SELECT id, status, attempts, result_key FROM generations_generation WHERE id = ANY(%s)", (ids,)
            )
        }


def wait_terminal(ids: list[str], timeout: float) -> float:
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        found = rows(ids)
        if len(found) == len(ids) and all(status in TERMINAL for status, _, _ in found.values()):
            break
        time.sleep(0.5)
    return time.monotonic() - started


def audit(ids: list[str], key: str, media: Path) -> dict[str, int | str]:
    """Integrity after a scenario, from the database and the storage folder, not from the API."""
    with psycopg.connect(database_url()) as conn:
        account_id = conn.execute("SELECT account_id FROM accounts_apikey WHERE prefix = %s", (key[:12],)).fetchone()[0]
        found = dict(
            conn.execute(
                "SELECT id, status FROM generations_generation WHERE account_id = %s", (account_id,)
            ).fetchall()
        )
        ledger = collections.defaultdict(list)
        for ref, kind in conn.execute(
            "SELECT generation_ref, kind FROM accounts_creditledgerentry "
            "WHERE account_id = %s AND generation_ref IS NOT NULL",
            (account_id,),
        ):
            ledger[ref].append(kind)
    results = [p for p in (media / "result").rglob("*") if p.is_file()] if (media / "result").exists() else []
    completed = sum(1 for status in found.values() if status == "COMPLETED")
    expected = {gid: (["reserve", "refund"] if found.get(gid) == "FAILED" else ["reserve"]) for gid in found}
    return {
        "accepted": len(ids),
        "completed": completed,
        "failed": sum(1 for status in found.values() if status == "FAILED"),
        "stuck": sum(1 for status in found.values() if status not in TERMINAL),
        "lost": sum(1 for gid in ids if gid not in found),
        "duplicated": len(set(found) - set(ids)),
        "extra_results": max(0, len(results) - completed),
        "double_charges": sum(1 for gid in found if sorted(ledger.get(gid, [])) != sorted(expected[gid])),
    }


@contextmanager
def stack(env: dict[str, str], var_dir: Path, *, workers: int = 2, with_beat: bool = True):
    processes = [worker(env, f"chaos{i}", var_dir) for i in range(workers)]
    if with_beat:
        processes.append(beat(env, var_dir))
    try:
        with web(env, workers=2) as port:
            time.sleep(3)
            yield port, processes
    finally:
        stop(processes)


# --- scenarios -----------------------------------------------------------------------------------------------------


def worker_crash(redis: Redis) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix="tryon-chaos-crash-"))
    env = stack_env(var_dir, **BASE, REDIS_URL=redis.url, SLOW_ENGINE_SECONDS="4")
    key = account_key(env, "chaos-crash")
    markers = [var_dir / "victim-started", var_dir / "spare-started"]
    victim = worker(env, "victim", var_dir, SLOW_ENGINE_MARKER=str(markers[0]))
    spare = worker(env, "spare", var_dir, SLOW_ENGINE_MARKER=str(markers[1]))
    replacement = None
    try:
        with web(env, workers=2) as port:
            client = Client(port, key)
            client.prepare()
            ids = []
            for _ in range(8):
                response = client.try_on()
                assert response.status_code == 202, response.text
                ids.append(response.json()["generationId"])
            deadline = time.monotonic() + 60
            while not markers[0].exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            running = sum(1 for status, _, _ in rows(ids).values() if status == "PROCESSING")
            kill_tree(victim)
            killed_at = time.monotonic()
            replacement = worker(env, "replacement", var_dir)
            drain = wait_terminal(ids, 120)
            attempts = max(a for _, a, _ in rows(ids).values())
    finally:
        stop([p for p in (victim, spare, replacement) if p is not None])
    return {
        "processing_when_killed": running,
        "drain_s": drain,
        "since_kill_s": time.monotonic() - killed_at,
        "max_attempts": attempts,
        **audit(ids, key, var_dir / "media"),
    }


def broker_outage(redis: Redis) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix="tryon-chaos-redis-"))
    env = stack_env(var_dir, **BASE, REDIS_URL=redis.url, SLOW_ENGINE_SECONDS="1")
    key = account_key(env, "chaos-redis")
    with stack(env, var_dir) as (port, _):
        client = Client(port, key)
        client.prepare()
        with Stream(client) as stream:
            time.sleep(6)
            redis.kill()
            down = time.monotonic()
            time.sleep(5)
            redis.start()
            up = time.monotonic()
            time.sleep(10)
        drain = wait_terminal(stream.accepted, 150)
        recovery = first_ok_after(stream, up)
        during = stream.window(down, up)
    errors = [r for r in stream.responses if r[2] >= 500 or r[2] == 0]
    return {
        "outage_s": up - down,
        "during": statuses(during),
        "requests": len(stream.responses),
        "accepted_during": sum(1 for r in during if r[2] == 202),
        "errors": len(errors),
        "error_codes": statuses(errors),
        "max_latency_during_s": max((r[4] for r in during), default=0.0),
        "recovery_s": recovery,
        "drain_s": drain,
        **audit(stream.accepted, key, var_dir / "media"),
    }


def database_outage(redis: Redis) -> dict:
    var_dir = Path(tempfile.mkdtemp(prefix="tryon-chaos-pg-"))
    proxy = PgProxy()
    proxy.restore()
    # A short pool timeout: a request that cannot get a connection answers 503 after 2 s instead of holding the
    # client for the default 10 s.
    env = stack_env(
        var_dir, **BASE, REDIS_URL=redis.url, SLOW_ENGINE_SECONDS="1", DB_POOL_TIMEOUT="2", DB_CONNECT_TIMEOUT="2"
    )
    env["DATABASE_URL"] = proxy.url()
    key = account_key(env, "chaos-pg")
    with stack(env, var_dir) as (port, _):
        client = Client(port, key)
        client.prepare()
        with Stream(client) as stream:
            time.sleep(6)
            proxy.cut()
            down = time.monotonic()
            time.sleep(10)
            proxy.restore()
            up = time.monotonic()
            time.sleep(10)
        drain = wait_terminal(stream.accepted, 150)
        during = stream.window(down + 0.5, up)
    server_errors = [r for r in during if r[2] >= 500]
    return {
        "outage_s": up - down,
        "during": statuses(during),
        "requests": len(stream.responses),
        "unavailable": sum(1 for r in stream.responses if r[2] == 503),
        "all_503_json": bool(server_errors)
        and all(r[2] == 503 and r[3] == "SERVICE_UNAVAILABLE" for r in server_errors),
        "non_503_errors": statuses(
            [r for r in stream.responses if (r[2] >= 500 and r[2] != 503) or r[2] == 0 or r[3] == "not-json"]
        ),
        "max_latency_during_s": max((r[4] for r in during), default=0.0),
        "recovery_s": first_ok_after(stream, up),
        "drain_s": drain,
        **audit(stream.accepted, key, var_dir / "media"),
    }


# --- the document --------------------------------------------------------------------------------------------------


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f} s"


def integrity(result: dict) -> list[str]:
    return [
        f"| accepted (202) | {result['accepted']} |",
        f"| completed / failed | {result['completed']} / {result['failed']} |",
        f"| stuck (PENDING/PROCESSING at the end) | **{result['stuck']}** |",
        f"| lost (accepted, no row) | **{result['lost']}** |",
        f"| duplicated (rows nobody accepted) | **{result['duplicated']}** |",
        f"| result objects beyond one per completed generation | **{result['extra_results']}** |",
        f"| double charges (ledger rows other than one reserve [+ one refund if FAILED]) | "
        f"**{result['double_charges']}** |",
    ]


def clean(result: dict) -> bool:
    return not any(result[k] for k in ("stuck", "lost", "duplicated", "extra_results", "double_charges"))


def write(crash: dict, broker: dict, db: dict, took: float) -> bool:
    ok = clean(crash) and clean(broker) and clean(db) and db["all_503_json"] and db["non_503_errors"] == "none"
    lines = [
        "# Chaos",
        "",
        "Written by `make chaos` (`scripts/chaos.py`), which starts the production stack on this machine (uvicorn with",
        "2 processes, 2 Celery workers with concurrency 1, beat, PostgreSQL database `tryon_bench`, a throwaway",
        "redis-server), breaks one part of it while a client keeps calling the API, and checks the database",
        "afterwards. Do not edit the figures by hand: rerun the command.",
        "",
        f"Run: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, {took:.0f} s; {machine()}.",
        "Engine: a test engine that sleeps (4 s in the crash scenario, 1 s otherwise) so a generation is reliably",
        "in flight when something breaks; reaper every 5 s for PENDING rows older than 5 s; hard time limit 30 s.",
        "",
        f"**Verdict: {'all invariants held' if ok else 'AN INVARIANT FAILED (see below)'}.**",
        "",
        "## 1. Worker SIGKILLed mid-generation",
        "",
        "8 try-ons are accepted; as soon as the first worker starts one, that worker and its pool processes get",
        "SIGKILL; a replacement worker is started. The message of the killed task comes back after the broker's",
        "visibility timeout (20 s in this run, 300 s by default) and the attempt counter fences the dead attempt.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| generations PROCESSING when the worker was killed | {crash['processing_when_killed']} |",
        f"| every generation terminal, seconds after the kill | {seconds(crash['drain_s'])} |",
        f"| highest attempt count | {crash['max_attempts']} |",
        *integrity(crash),
        "",
        "## 2. Redis killed and restarted empty mid-stream",
        "",
        "A client sends a try-on and a status poll every 0.3 s. Redis (broker, rate-limit store, cache) gets",
        f"SIGKILL and comes back after {broker['outage_s']:.1f} s with no data: every queued message is gone. The",
        "reaper sends the PENDING rows again.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| responses during the outage | {broker['during']} |",
        f"| slowest response during the outage | {seconds(broker['max_latency_during_s'])} |",
        f"| try-ons accepted while Redis was down (sent later by the reaper) | {broker['accepted_during']} |",
        f"| 5xx or no response over the whole run ({broker['requests']} requests) | {broker['errors']}"
        f" ({broker['error_codes']}) |",
        f"| first successful request after the restart | {seconds(broker['recovery_s'])} |",
        f"| every accepted generation terminal, after the stream ended | {seconds(broker['drain_s'])} |",
        *integrity(broker),
        "",
        "## 3. PostgreSQL unreachable for 10 s",
        "",
        "The stack reaches PostgreSQL through a TCP proxy run by the script; the proxy aborts every connection and",
        f"refuses new ones for {db['outage_s']:.1f} s, while the client keeps calling (`DB_POOL_TIMEOUT=2`,",
        "`DB_CONNECT_TIMEOUT=2` for this run).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| responses during the outage (first 0.5 s excluded) | {db['during']} |",
        f"| 503 responses over the whole run | {db['unavailable']} |",
        f"| every 5xx is `503 SERVICE_UNAVAILABLE` JSON | **{'yes' if db['all_503_json'] else 'no'}** |",
        f"| other 5xx, HTML or no response over the whole run ({db['requests']} requests) | {db['non_503_errors']} |",
        f"| slowest response during the outage | {seconds(db['max_latency_during_s'])} |",
        f"| first successful request after the database came back | {seconds(db['recovery_s'])} |",
        f"| every accepted generation terminal, after the stream ended | {seconds(db['drain_s'])} |",
        *integrity(db),
        "",
    ]
    OUT.write_text("\n".join(lines))
    return ok


def main() -> int:
    started = time.monotonic()
    manage(stack_env(Path(tempfile.mkdtemp(prefix="tryon-chaos-"))), "migrate", "--noinput")
    redis = Redis()
    redis.start()
    try:
        results = []
        for scenario in (worker_crash, broker_outage, database_outage):
            print(f"chaos: {scenario.__name__} ...", flush=True)
            result = scenario(redis)
            print(json.dumps(result, default=str), flush=True)
            results.append(result)
    finally:
        redis.kill()
    ok = write(*results, took=time.monotonic() - started)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
