"""The scale-out test: the production layout of docs/deployment.md, on loopback.

    .venv/bin/python tests/scaleout/run.py      (CI: .ci/run, after the test suite)
    .venv/bin/python tests/scaleout/run.py --measure 5     (then times the layouts)

Starts throw-away PostgreSQL clusters on free ports (a primary with wal_level=replica
and a streaming hot-standby replica made by pg_basebackup), PgBouncer in front of the
primary (transaction pooling for the app servers, session pooling for the workers),
two gunicorn servers, two Celery workers and beat (Redis database REDIS_DB), then:

1. writes from many clients to both servers at once: customers, events (each retried
   on the other server with its message_id), add_customers with an Idempotency-Key
   sent to both servers at the same moment; every acknowledged write must be on the
   primary exactly once;
2. reads from both servers with a key that never writes, once the replica has caught
   up: every answer must match the primary, and the replica must have served them;
3. holds the replica back (replay paused): the writer reads its own write at once
   (read-your-writes, across servers), a reader still sees the replica's past, and a
   key created a moment ago is found on the primary rather than refused;
4. a rule segment computed and a CSV import applied by the workers (the import's file
   goes through the shared upload directory);
5. stops the replica: reads go on, from the primary.

Everything it starts is stopped and its directory removed at the end, failure or not.
Runs as root (as CI does: PostgreSQL and PgBouncer then run as the `postgres` user)
or as an ordinary user. Needs PostgreSQL's server binaries (PG_BIN, default the
newest /usr/lib/postgresql/*/bin), pgbouncer and Redis on 127.0.0.1:6379.
"""

import contextlib
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
# Cache and broker in one database here (production keeps them apart): the
# suite's own worker test uses database 13, and the two may run side by side.
REDIS_DB = int(os.environ.get("SCALEOUT_REDIS_DB", "14"))
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
DB_NAME = "segments_scaleout"
CUSTOMERS = int(os.environ.get("SCALEOUT_CUSTOMERS", "240"))
EVENTS_PER_CUSTOMER = 2
BATCH = 20  # ids per add_customers call
CLIENTS = 8  # concurrent client threads
WAIT_SECONDS = 60


def log(message: str) -> None:
    print(f"[scaleout {time.strftime('%H:%M:%S')}] {message}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
    log(f"ok: {message}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin() -> Path:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
    )
    if not versions:
        raise SystemExit("PostgreSQL server binaries not found: set PG_BIN")
    return versions[-1]


def wait_for(what: str, probe, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = probe()
            if result:
                return result
        except Exception as exc:  # the thing is still starting
            error = exc
        else:
            error = None
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last error: {error})")
        time.sleep(0.2)


class Stack:
    """What the test started, stopped in reverse order whatever happens."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="segments-scaleout-"))
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self._user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        else:
            self._user = {}
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.on_exit: list = []
        self.logs: dict[str, Path] = {}

    def db_command(self, *args: str) -> None:
        """A PostgreSQL tool, as the postgres user when run as root."""
        subprocess.run(
            args, check=True, cwd=self.dir, capture_output=True, text=True, **self._user
        )

    def start(self, name: str, args: list[str], *, env=None, as_db=False):
        log_path = self.dir / f"{name}.log"
        self.logs[name] = log_path
        with open(log_path, "wb") as out:
            if as_db and self.as_postgres:
                os.chown(log_path, self._user["user"], self._user["group"])
            process = subprocess.Popen(
                args,
                cwd=ROOT if not as_db else self.dir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: children stop too
                **(self._user if as_db else {}),
            )
        self.processes.append((name, process))
        return process

    def stop(self, name: str) -> None:
        for known, process in self.processes:
            if known == name:
                _terminate(process)

    def close(self, failed: bool) -> None:
        for _, process in reversed(self.processes):
            _terminate(process)
        for action in reversed(self.on_exit):
            with contextlib.suppress(Exception):
                action()
        if failed:
            for name, path in self.logs.items():
                with contextlib.suppress(OSError):
                    tail = path.read_text(errors="replace").splitlines()[-25:]
                    print(f"----- {name} (last lines) -----", *tail, sep="\n")
        shutil.rmtree(self.dir, ignore_errors=True)


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class Cluster:
    def __init__(self, stack: Stack, name: str, port: int) -> None:
        self.stack, self.name, self.port = stack, name, port
        self.data = stack.dir / name
        self.url = f"postgres://postgres@127.0.0.1:{port}/{DB_NAME}"

    def start(self) -> None:
        pg = pg_bin()
        self.stack.db_command(
            str(pg / "pg_ctl"), "-D", str(self.data), "-l", f"{self.data}.log",
            "-w", "-t", "60", "start",
        )  # fmt: skip
        self.stack.logs[self.name] = Path(f"{self.data}.log")
        self.stack.on_exit.append(self.stop)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.stack.db_command(
                str(pg_bin() / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                "-w", "stop",
            )  # fmt: skip

    def connect(self, dbname: str = DB_NAME) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname,
            autocommit=True, connect_timeout=5,
        )  # fmt: skip

    def one(self, sql: str, *params):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchone()[0]


def make_primary(stack: Stack) -> Cluster:
    primary = Cluster(stack, "primary", free_port())
    stack.db_command(
        str(pg_bin() / "initdb"), "-D", str(primary.data), "-U", "postgres",
        "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
    )  # fmt: skip
    with open(primary.data / "postgresql.conf", "a") as conf:
        conf.write(
            f"port = {primary.port}\n"
            "listen_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{stack.dir}'\n"
            "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
            "fsync = off\nsynchronous_commit = off\nmax_connections = 100\n"
            "shared_buffers = 64MB\n"
        )
    primary.start()
    with primary.connect("postgres") as conn:
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return primary


def make_replica(stack: Stack, primary: Cluster) -> Cluster:
    replica = Cluster(stack, "replica", free_port())
    stack.db_command(
        str(pg_bin() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
        "-U", "postgres", "-D", str(replica.data), "-R", "-X", "stream",
        "-c", "fast",
    )  # fmt: skip
    with open(replica.data / "postgresql.auto.conf", "a") as conf:
        conf.write(f"port = {replica.port}\nhot_standby = on\n")
    replica.start()
    check(
        replica.one("SELECT pg_is_in_recovery()") is True,
        "the replica is a hot standby",
    )
    wait_for("the replica to stream", lambda: replica.one(_STREAMING))
    return replica


_STREAMING = "SELECT count(*) = 1 FROM pg_stat_wal_receiver WHERE status = 'streaming'"


def start_pgbouncer(stack: Stack, primary: Cluster) -> int:
    port = free_port()
    (stack.dir / "userlist.txt").write_text('"postgres" ""\n')
    server = f"host=127.0.0.1 port={primary.port} dbname={DB_NAME}"
    (stack.dir / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"segments = {server}\n"
        # Import jobs keep a temporary staging table across transactions: the
        # workers hold their server connection for the session.
        f"segments_session = {server} pool_mode=session\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {stack.dir / 'userlist.txt'}\n"
        "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 10\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    if stack.as_postgres:
        for name in ("userlist.txt", "pgbouncer.ini"):
            os.chown(stack.dir / name, stack._user["user"], stack._user["group"])
    stack.start(
        "pgbouncer", ["pgbouncer", str(stack.dir / "pgbouncer.ini")], as_db=True
    )
    wait_for(
        "PgBouncer",
        lambda: psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="segments",
            connect_timeout=2,
        ).close() or True,
    )  # fmt: skip
    return port


def app_env(stack: Stack, **extra: str) -> dict[str, str]:
    keep = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "DJANGO_", "CELERY_", "CACHE_", "GUNICORN"))
    }
    return {
        **keep,
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_SETTINGS_MODULE": "segments_site.settings",
        "DJANGO_SECRET_KEY": "scaleout-" + uuid.uuid4().hex,
        "DJANGO_SECURE": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_MEDIA_ROOT": str(stack.dir / "shared-media"),
        "CACHE_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "API_THROTTLE_RATE": "1000000/min",
        "LOG_LEVEL": "INFO",
        **extra,
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)}:\n{result.stderr[-3000:]}")
    return result.stdout


def new_key(env: dict[str, str], name: str, scopes: str) -> str:
    return manage(env, "create_api_key", "--name", name, "--scopes", scopes).split()[-1]


class Api:
    """One keep-alive connection per thread and server, JSON in and out."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._local = threading.local()

    def request(self, port, method, path, key, body=None, headers=None, raw=None):
        conns = self._local.__dict__.setdefault("conns", {})
        sent = {"X-API-Key": key, **(headers or {})}
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        for attempt in (1, 2):
            conn = conns.get(port) or http.client.HTTPConnection(
                "127.0.0.1", port, timeout=60
            )
            conns[port] = conn
            try:
                conn.request(method, "/api/v1" + path, body=payload, headers=sent)
                response = conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                conn.close()
                conns.pop(port, None)
                if attempt == 2:
                    raise
        answer = json.loads(data) if data else None
        return response.status, answer, dict(response.getheaders())


def start_servers(stack: Stack, env: dict[str, str]) -> list[int]:
    ports = [free_port(), free_port()]
    for n, port in enumerate(ports, 1):
        stack.start(
            f"gunicorn-{n}",
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "segments_site.wsgi"],
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"},
        )
    for port in ports:
        wait_for(f"gunicorn on {port}", lambda port=port: _answers(port))
    return ports


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/admin/login/")
    return conn.getresponse().status == 200


def start_workers(stack: Stack, env: dict[str, str]) -> None:
    celery = str(BIN / "celery")
    for n in (1, 2):
        stack.start(
            f"worker-{n}",
            [celery, "-A", "segments_site", "worker", "-n", f"scaleout{n}@%h",
             "-c", "2", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            env=env,
        )  # fmt: skip
    stack.start(
        "beat",
        [celery, "-A", "segments_site", "beat", "--loglevel", "INFO",
         "-s", str(stack.dir / "beat-schedule")],
        env=env,
    )  # fmt: skip

    def both_ready():
        out = subprocess.run(
            [celery, "-A", "segments_site", "inspect", "ping", "--timeout", "2"],
            cwd=ROOT, env=env, capture_output=True, text=True,
        ).stdout  # fmt: skip
        return "scaleout1@" in out and "scaleout2@" in out

    wait_for("two Celery workers", both_ready, seconds=90)


# --- the traffic --------------------------------------------------------------


def write_phase(api: Api, writers: list[str], segment_id: int) -> dict:
    """Concurrent writes to both servers; what each acknowledged."""
    acked_customers: list[str] = []
    acked_events: list[str] = []
    added_ids: list[str] = []
    replays = Counter()
    lock = threading.Lock()

    def customer(i: int) -> None:
        port, key = api.ports[i % 2], writers[i % len(writers)]
        cid = f"c{i}"
        status, _, _ = api.request(
            port, "POST", "/customers", key,
            {"id": cid, "email": f"{cid}@example.com", "attributes": {"n": i}},
        )  # fmt: skip
        if status in (200, 201):
            with lock:
                acked_customers.append(cid)
        for j in range(EVENTS_PER_CUSTOMER):
            message = f"m-{i}-{j}"
            event = {"user_id": cid, "name": "ping", "message_id": message,
                     "properties": {"j": j}}  # fmt: skip
            # Sent, then sent again to the other server as a client would after
            # losing the first answer: stored once.
            first, _, _ = api.request(port, "POST", "/events", key, event)
            again, _, _ = api.request(
                api.ports[(i + 1) % 2], "POST", "/events", key, event
            )
            if first in (200, 201) or again in (200, 201):
                with lock:
                    acked_events.append(message)
            if first == 201 and again != 200:
                raise AssertionError(f"event {message} retried: {again}, not 200")

    def add_batch(b: int) -> None:
        ids = [f"c{i}" for i in range(b * BATCH, min((b + 1) * BATCH, CUSTOMERS))]
        key = writers[b % len(writers)]
        idem = {"Idempotency-Key": f"add-{b}-{uuid.uuid4()}"}
        path = f"/segments/{segment_id}/add_customers"
        # The same request to both servers at the same moment.
        with ThreadPoolExecutor(2) as pair:
            answers = list(
                pair.map(
                    lambda port: api.request(
                        port, "POST", path, key, {"ids": ids}, idem
                    ),
                    api.ports,
                )
            )
        (s1, b1, h1), (s2, b2, h2) = answers
        if s1 != 200 or s2 != 200 or b1 != b2:
            raise AssertionError(f"add_customers batch {b}: {s1} {b1} / {s2} {b2}")
        with lock:
            replays[h1.get("Idempotent-Replayed") or h2.get("Idempotent-Replayed")] += 1
            added_ids.extend(ids)
            if b1["unknown_ids"]:
                raise AssertionError(f"batch {b}: unknown ids {b1['unknown_ids']}")

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(customer, range(CUSTOMERS)))
    with ThreadPoolExecutor(CLIENTS // 2) as pool:
        list(pool.map(add_batch, range((CUSTOMERS + BATCH - 1) // BATCH)))
    return {
        "customers": acked_customers,
        "events": acked_events,
        "added": added_ids,
        "replays": replays,
    }


def check_exactly_once(primary: Cluster, acked: dict, segment_id: int) -> None:
    with primary.connect() as conn:
        customers = conn.execute(
            "SELECT external_id, count(*) FROM segments_customer "
            "WHERE external_id LIKE 'c%%' GROUP BY external_id"
        ).fetchall()
        events = conn.execute(
            "SELECT message_id, count(*) FROM segments_event "
            "WHERE message_id LIKE 'm-%%' GROUP BY message_id"
        ).fetchall()
        members = conn.execute(
            "SELECT c.external_id FROM segments_membership m "
            "JOIN segments_customer c ON c.id = m.customer_id WHERE m.segment_id = %s",
            (segment_id,),
        ).fetchall()
        entered = conn.execute(
            "SELECT customer_id, count(*) FROM segments_membershipchange "
            "WHERE segment_id = %s AND action = 'entered' GROUP BY customer_id",
            (segment_id,),
        ).fetchall()
    check(
        sorted(c for c, _ in customers) == sorted(acked["customers"])
        and all(n == 1 for _, n in customers),
        f"{len(acked['customers'])} acknowledged customers on the primary, once each",
    )
    check(
        sorted(m for m, _ in events) == sorted(acked["events"])
        and all(n == 1 for _, n in events),
        f"{len(acked['events'])} acknowledged events stored once each "
        "(each sent twice, to both servers)",
    )
    check(
        sorted(m for (m,) in members) == sorted(acked["added"])
        and len(entered) == len(acked["added"])
        and all(n == 1 for _, n in entered),
        f"{len(acked['added'])} ids added once each, one history row each, with "
        f"every add_customers sent to both servers at once (replayed: "
        f"{acked['replays'].get('true', 0)} of {sum(acked['replays'].values())})",
    )


def caught_up(primary: Cluster, replica: Cluster) -> None:
    target = primary.one("SELECT pg_current_wal_lsn()::text")
    wait_for(
        "the replica to replay the primary's writes",
        lambda: replica.one("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target),
    )


def replica_transactions(replica: Cluster) -> int:
    return replica.one(
        "SELECT xact_commit + xact_rollback FROM pg_stat_database "
        "WHERE datname = current_database()"
    )


def read_phase(api, reader, primary, replica, segment_id, acked) -> None:
    caught_up(primary, replica)
    with primary.connect() as conn:
        truth = dict(
            conn.execute(
                "SELECT external_id, (attributes->>'n')::int FROM segments_customer "
                "WHERE external_id LIKE 'c%%'"
            ).fetchall()
        )
    before = replica_transactions(replica)
    wrong = []

    def read(i: int) -> None:
        port, cid = api.ports[i % 2], f"c{i}"
        status, body, _ = api.request(port, "GET", f"/customers/{cid}", reader)
        if status != 200 or body["attributes"].get("n") != truth.get(cid):
            wrong.append((cid, status, body))
        status, body, _ = api.request(
            port, "GET", f"/segments/{segment_id}/members/{cid}", reader
        )
        if status != 200 or body["member"] is not (cid in acked["added"]):
            wrong.append((cid, status, body))

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(read, range(CUSTOMERS)))
    served = replica_transactions(replica) - before
    check(not wrong, f"{2 * CUSTOMERS} reads on both servers match the primary")
    check(
        served >= 2 * CUSTOMERS,
        f"the replica served them ({served} transactions on it during the reads)",
    )


def held_back_phase(api, writer, reader, env, primary, replica) -> None:
    replica.one("SELECT pg_wal_replay_pause() IS NULL")
    wait_for(
        "replay to pause",
        lambda: replica.one("SELECT pg_get_wal_replay_pause_state() = 'paused'"),
    )
    a, b = api.ports
    status, _, _ = api.request(a, "POST", "/customers", writer, {"id": "late"})
    check(status == 201, "a customer written while the replica is held back")
    status, _, _ = api.request(b, "GET", "/customers/late", writer)
    check(status == 200, "its writer reads it at once, from the other server")
    status, _, _ = api.request(b, "GET", "/customers/late", reader)
    check(status == 404, "a reader that did not write still reads the replica's past")
    fresh = new_key(env, "fresh", "read")
    status, _, _ = api.request(a, "GET", "/segments", fresh)
    check(status == 200, "a key made a moment ago (not on the replica) is accepted")
    replica.one("SELECT pg_wal_replay_resume() IS NULL")
    caught_up(primary, replica)
    status, _, _ = api.request(b, "GET", "/customers/late", reader)
    check(status == 200, "once replay goes on, the reader sees it too")


def jobs_phase(api, writer, primary, stack) -> None:
    status, body, _ = api.request(
        api.ports[0], "POST", "/segments", writer,
        {"name": "n at least 100", "type": "rule",
         "rules": {"match": "all", "conditions": [
             {"field": "attributes.n", "operator": "gte", "value": 100}]}},
    )  # fmt: skip
    check(status == 201, "a rule segment created")
    expected = primary.one(
        "SELECT count(*) FROM segments_customer WHERE (attributes->>'n')::int >= 100"
    )
    segment = body["id"]

    def computed():
        count = primary.one(
            "SELECT count(*) FROM segments_membership WHERE segment_id = %s", segment
        )
        return count == expected

    wait_for("the workers to compute the rule segment", computed)
    check(True, f"a worker computed the rule segment ({expected} members)")

    status, body, _ = api.request(
        api.ports[1],
        "POST",
        "/segments",
        writer,
        {"name": "Imported", "type": "static"},
    )
    target = body["id"]
    csv = "id\n" + "\n".join(f"c{i}" for i in range(0, CUSTOMERS, 3)) + "\n"
    boundary = uuid.uuid4().hex
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="members.csv"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="id_type"\r\n\r\nid\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    status, job, _ = api.request(
        api.ports[1], "POST", f"/segments/{target}/imports", writer, raw=form,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
    check(status == 202, f"an import accepted by one server (answered {status})")

    def done():
        state = primary.one(
            "SELECT status FROM segments_importjob WHERE id = %s", job["id"]
        )
        if state == "failed":
            raise SystemExit(f"the import failed: {job}")
        return state == "done"

    wait_for("a worker to apply the import", done)
    added = primary.one(
        "SELECT count(*) FROM segments_membership WHERE segment_id = %s", target
    )
    check(
        added == len(range(0, CUSTOMERS, 3)),
        f"a worker read the upload from the shared directory and added {added}",
    )
    ran = sum(
        stack.logs[f"worker-{n}"].read_text(errors="replace").count("succeeded")
        for n in (1, 2)
    )
    check(ran > 0, f"the jobs ran on the Celery workers ({ran} tasks succeeded)")


def replica_down_phase(api, reader, replica) -> None:
    replica.stop()
    statuses = [
        api.request(port, "GET", "/customers/c1", reader)[0] for port in api.ports * 3
    ]
    check(
        statuses == [200] * len(statuses),
        "with the replica stopped, reads are served from the primary",
    )


def measure_phase(stack, api, reader, segment, direct, web, rounds: int) -> None:
    """Not a check: the membership check's requests/s and latency through each
    layout, one server of 2 workers each, interleaved (`--measure ROUNDS`)."""
    layouts = {
        "direct to the primary": {**direct},
        "through PgBouncer": {k: v for k, v in web.items() if "REPLICA" not in k},
        "PgBouncer + replica": web,
    }
    ports = {}
    for n, (name, env) in enumerate(layouts.items()):
        port = free_port()
        stack.start(
            f"measure-{n}",
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "segments_site.wsgi"],
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"},
        )
        wait_for(name, lambda port=port: _answers(port))
        ports[name] = port
    results: dict[str, list[tuple[float, float, float]]] = {n: [] for n in layouts}
    requests = 400
    for r in range(rounds):
        order = list(layouts)[r % 3 :] + list(layouts)[: r % 3]
        for name in order:
            results[name].append(_timed(api, ports[name], reader, segment, requests))
    log(f"membership check, {requests} requests from 4 threads, {rounds} rounds; "
        f"load {os.getloadavg()[0]:.1f}")  # fmt: skip
    base = sorted(x[0] for x in results["direct to the primary"])[rounds // 2]
    for name, runs in results.items():
        rps = sorted(x[0] for x in runs)[rounds // 2]
        p50 = sorted(x[1] for x in runs)[rounds // 2]
        p99 = sorted(x[2] for x in runs)[rounds // 2]
        log(f"  {name}: {rps:.0f} req/s ({rps / base:.2f}x), "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")  # fmt: skip


def _timed(api, port, reader, segment, requests):
    latencies: list[float] = []

    def one(i: int) -> None:
        start = time.perf_counter()
        status, _, _ = api.request(
            port, "GET", f"/segments/{segment}/members/c{i % CUSTOMERS}", reader
        )
        latencies.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise AssertionError(f"membership check answered {status}")

    start = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return (
        requests / elapsed,
        latencies[len(latencies) // 2],
        latencies[int(len(latencies) * 0.99)],
    )


def main() -> int:
    # Stopped from outside (a CI timeout, Ctrl-C): clean up all the same.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    stack = Stack()
    failed = True
    flush = redis.Redis.from_url(REDIS_URL)
    try:
        flush.flushdb()
        stack.on_exit.append(flush.flushdb)
        primary = make_primary(stack)
        replica = make_replica(stack, primary)
        bouncer = start_pgbouncer(stack, primary)
        log(
            f"primary :{primary.port}, replica :{replica.port}, "
            f"PgBouncer :{bouncer}, in {stack.dir}"
        )
        direct = app_env(stack, DATABASE_URL=primary.url)
        manage(direct, "migrate", "--noinput")
        writers = [new_key(direct, f"writer {n}", "read,write,ingest") for n in (1, 2)]
        reader = new_key(direct, "reader", "read")
        pooled = f"postgres://postgres@127.0.0.1:{bouncer}"
        web = app_env(
            stack,
            DATABASE_URL=f"{pooled}/segments",
            DATABASE_POOLER="pgbouncer",
            DATABASE_REPLICA_URL=replica.url,
            # Held back on purpose in step 3: the bound must not hide it.
            DATABASE_REPLICA_MAX_LAG_SECONDS="3600",
        )
        workers = app_env(stack, DATABASE_URL=f"{pooled}/segments_session")
        api = Api(start_servers(stack, web))
        start_workers(stack, workers)
        log(f"two servers {api.ports}, two workers and beat up")

        status, body, _ = api.request(
            api.ports[0], "POST", "/segments", writers[0],
            {"name": "Scale-out", "type": "static"},
        )  # fmt: skip
        check(status == 201, "a static segment created through PgBouncer")
        segment = body["id"]
        acked = write_phase(api, writers, segment)
        check_exactly_once(primary, acked, segment)
        read_phase(api, reader, primary, replica, segment, acked)
        held_back_phase(api, writers[0], reader, direct, primary, replica)
        jobs_phase(api, writers[1], primary, stack)
        if "--measure" in sys.argv:
            rounds = int(sys.argv[sys.argv.index("--measure") + 1])
            measure_phase(stack, api, reader, segment, direct, web, rounds)
        replica_down_phase(api, reader, replica)
        failed = False
        log(f"passed in {time.monotonic() - started:.0f} s")
        return 0
    finally:
        stack.close(failed)


if __name__ == "__main__":
    sys.exit(main())
