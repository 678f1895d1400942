"""gunicorn's settings for production (docs/deployment.md), read from the environment.

    gunicorn -c gunicorn.conf.py segments_site.wsgi

GUNICORN_BIND (default 127.0.0.1:8000, behind a proxy), WEB_CONCURRENCY (worker
processes, default 2 per CPU + 1), GUNICORN_THREADS (per process, default 1),
GUNICORN_TIMEOUT (seconds a request may take, default 60: a 10,000-id bulk add
fits), GUNICORN_ACCESS_LOG ("-" for stdout, a path, or unset for none: the proxy
usually logs requests), GUNICORN_FORWARDED_ALLOW_IPS (the proxy's address).
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
threads = _int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after this many requests (with jitter, not all at once),
# so that slow leaks in a long-lived process do not add up.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10_000)
max_requests_jitter = max_requests // 10
# Each worker opens its own database connections after the fork: nothing is
# shared, and the app is imported in every worker.
preload_app = False
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The heartbeat file on a memory file system: a slow disk must not look like a
# hung worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
proc_name = "segments"
