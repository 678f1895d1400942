"""Reads from a streaming replica where a slightly old answer is right, and only there.

A read goes to the `replica` database when all of these hold:
- the code asked for it: `reading_from_replica()` is entered, which the middleware
  does for safe-method requests under /api/ and the admin's heavy counts do for
  themselves (`segments.selectors.counts`);
- the client (API key, admin session) wrote nothing for the last
  DATABASE_REPLICA_STICKY_SECONDS (read-your-writes; marks in the shared cache), and
  nothing in this request so far;
- no transaction is open on the primary (what it reads must agree with what it
  writes, and locks are taken there);
- the replica answers and its replay lags at most DATABASE_REPLICA_MAX_LAG_SECONDS,
  checked at most every DATABASE_REPLICA_CHECK_SECONDS per process.
Anything else reads from the primary. Writes and migrations always go to `default`.
Jobs, commands and shells never read from the replica (no request, no context).
"""

import contextvars
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
API_PREFIX = "/api/"
# Answers that may come from a replica behind the primary or gone: a key created a
# moment ago (401), a replica failing mid-request (503). A safe request is retried
# on the primary before the client sees them.
RETRY_ON_PRIMARY = (401, 503)
MARK = "replica:wrote:"
DOWN_RETRY_SECONDS = 15
# Writes nothing in the request reads back: an API key's last use, stamped by the
# lookup at most once a minute, must not send the rest of that request to the
# primary.
BOOKKEEPING = {("segments", "apikey")}

# pg_stat_wal_receiver has a row while the standby streams from its primary: a
# standby cut off from it keeps answering, with data that no longer moves.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver),
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
       END
"""

logger = logging.getLogger(__name__)


@dataclass
class Routing:
    """What the router may do for the request being served."""

    allowed: bool  # the client has not written lately
    reading: bool = False  # inside reading_from_replica()
    wrote: bool = False  # this request wrote: read it back from the primary
    used: bool = False  # a read went to the replica


_routing: contextvars.ContextVar[Routing | None] = contextvars.ContextVar(
    "replica_routing", default=None
)


@contextmanager
def reading_from_replica() -> Iterator[None]:
    """Let the reads inside go to the replica, if the request may use it."""
    routing = _routing.get()
    if routing is None:
        yield
        return
    before = routing.reading
    routing.reading = True
    try:
        yield
    finally:
        routing.reading = before


@contextmanager
def routing_for(*, allowed: bool) -> Iterator[Routing]:
    """The routing state of one request (the middleware; tests)."""
    routing = Routing(allowed=allowed)
    token = _routing.set(routing)
    try:
        yield routing
    finally:
        _routing.reset(token)


def has_replica() -> bool:
    return REPLICA in connections.settings


class ReplicaRouter:
    def db_for_read(self, model, **hints) -> str:
        # Never None: Django would then read an object's relations from the
        # database the object came from, the replica, even after a write.
        if not self._replica_allowed():
            return DEFAULT_DB_ALIAS
        _routing.get().used = True  # type: ignore[union-attr]
        return REPLICA

    def _replica_allowed(self) -> bool:
        routing = _routing.get()
        if routing is None or not routing.reading or not routing.allowed:
            return False
        if routing.wrote or not has_replica():
            return False
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            return False
        return replica_health.usable()

    def db_for_write(self, model, **hints) -> str:
        routing = _routing.get()
        if routing is not None and _label(model) not in BOOKKEEPING:
            routing.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        # The replica holds the primary's rows: objects from both may be related.
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        if {obj1._state.db, obj2._state.db} <= aliases:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        # A standby is read-only: it gets the schema by replication.
        return db != REPLICA


def _label(model) -> tuple[str, str]:
    return (model._meta.app_label, model._meta.model_name)


class ReplicaHealth:
    """Whether the replica may be read from, measured at most once per interval
    per process (a lag query costs a round trip). A replica found down is tried
    again only after DOWN_RETRY_SECONDS: each try may cost a request a connect
    timeout."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next_check = float("-inf")
        self._usable = False

    def usable(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next_check:
                return self._usable
            # Other threads keep the last answer while this one measures.
            self._next_check = now + settings.DATABASE_REPLICA_CHECK_SECONDS
        lag = replica_lag()
        usable = lag is not None and lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS
        if not usable and self._usable:
            logger.warning("Replica not used (lag %s s): reading from the primary", lag)
        with self._lock:
            self._usable = usable
            if lag is None:
                self._next_check = time.monotonic() + DOWN_RETRY_SECONDS
        return usable

    def failed(self) -> None:
        """A read on the replica failed: leave it alone for a while."""
        with self._lock:
            self._next_check = time.monotonic() + DOWN_RETRY_SECONDS
            self._usable = False

    def forget(self) -> None:
        with self._lock:
            self._next_check = float("-inf")
            self._usable = False


replica_health = ReplicaHealth()


def replica_lag() -> float | None:
    """Seconds the replica's replay is behind (0 when it has replayed all it
    received), or None when it cannot be used: down, or not streaming."""
    connection = connections[REPLICA]
    try:
        if connection.vendor != "postgresql":
            connection.ensure_connection()
            return 0.0
        with connection.cursor() as cursor:
            cursor.execute(LAG_SQL)
            in_recovery, streaming, lag = cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("Replica unreachable, reading from the primary: %s", exc)
        connection.close()
        return None
    if not in_recovery:
        return 0.0  # a test mirror of the primary: nothing to lag behind
    if not streaming:
        return None
    return float(lag or 0)


class ReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not has_replica():
            return self.get_response(request)
        client = client_of(request)
        allowed = client is None or not wrote_lately(client)
        safe = request.method in SAFE_METHODS
        with routing_for(allowed=allowed) as routing:
            if not (safe and request.path.startswith(API_PREFIX)):
                response = self.get_response(request)
            else:
                with reading_from_replica():
                    response = self.get_response(request)
                if routing.used and response.status_code in RETRY_ON_PRIMARY:
                    if response.status_code == 503:
                        replica_health.failed()
                    routing.allowed = False
                    response = self.get_response(request)
        if not safe:
            remember_write(request, client)
        return response


def client_of(request) -> str | None:
    """Who is asking, for read-your-writes: the API key sent (hashed: the cache
    need not hold it) or the admin session, without a database read."""
    key = request.headers.get("X-API-Key")
    if key is None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        key = token if scheme.lower() == "bearer" else None
    if key:
        return "key:" + hashlib.sha256(key.strip().encode()).hexdigest()
    session = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    return f"session:{session}" if session else None


def wrote_lately(client: str) -> bool:
    try:
        return cache.get(MARK + client) is not None
    except Exception:  # the cache is down: assume it did, read from the primary
        logger.warning("Cache unreachable: read-your-writes from the primary")
        return True


def remember_write(request, client: str | None) -> None:
    """This client reads from the primary for a while: its write may not have
    reached the replica yet. A login gets a new session: mark that one too."""
    clients = {client}
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        clients.add(f"session:{session.session_key}")
    marks = {MARK + c: 1 for c in clients if c}
    if not marks:
        return
    try:
        cache.set_many(marks, timeout=settings.DATABASE_REPLICA_STICKY_SECONDS)
    except Exception:  # the write is done; its reader will miss the mark
        logger.warning("Cache unreachable: a write not marked for read-your-writes")
