"""Prometheus metrics, served at GET /metrics (open: no Bearer token).

Every process keeps its own counters and serves its own /metrics: with several
replicas (or uvicorn workers) scrape each one and let Prometheus sum them; the
numbers are not shared between processes (prometheus_client's multiprocess mode
is not set up).

HTTP requests are labelled by the route's path template (`/api/v1/alliances/{alliance_id}`),
never by the raw path: paths can hold alliance ids and invitation secrets.
"""

import logging
import math

from anyio import to_thread
from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

from events.application import AllianceApplication
from server.auth import OPEN
from server.settings import Settings

log = logging.getLogger("alliance")

HTTP_LABELS = ["method", "route", "status"]
REQUESTS = Counter("alliance_http_requests_total",
                   "HTTP requests, by route template and status (499: the client hung up before the answer)",
                   HTTP_LABELS)
LATENCY = Histogram("alliance_http_request_duration_seconds",
                    "Time to answer an HTTP request, by route template (live streams: how long they stayed open)",
                    HTTP_LABELS)
PUSH_OUTCOMES = ("applied", "duplicate", "conflict", "rejected")
PUSHED = Counter("alliance_push_mutations_total", "Mutations pushed by devices, by outcome", ["status"])
for _status in PUSH_OUTCOMES:
    PUSHED.labels(_status)  # every outcome shows, at 0, from the start
LIVE_CLIENTS = Gauge("alliance_live_clients", "Live (server-sent events) streams open now")
STORE_SIZE = Gauge("alliance_store_size_bytes",
                   "Size of the event store on disk (SQLite files, or the PostgreSQL tables); NaN if unknown")


def count_push(results: list[dict]) -> None:
    for result in results:
        PUSHED.labels(result["status"]).inc()


def record_request(scope: dict, status: int, seconds: float) -> None:
    """Count and time a request by method, route template (never the raw path) and status."""
    labels = (scope["method"], scope.get("path_template") or "unmatched", str(status))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(seconds)


def store_size(alliances: AllianceApplication, settings: Settings) -> float:
    """Bytes on disk; NaN when that cannot be told (never raises)."""
    try:
        if not settings.database_url:
            path = settings.data_dir / f"{alliances.name}.sqlite"
            return float(sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists()))
        datastore = alliances.recorder.datastore
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS size FROM pg_class c "
                           "JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = %s AND c.relkind = 'r' AND c.relname LIKE %s",
                           (datastore.schema, f"{alliances.name}\\_%"))
            return float(cursor.fetchone()["size"])
    except Exception as error:  # a scrape must never fail for this
        log.debug("store size unknown: %s", error)
        return math.nan


@get("/metrics", opt=OPEN, include_in_schema=False)
async def metrics(alliances: NamedDependency[AllianceApplication], settings: NamedDependency[Settings]) -> Response[bytes]:
    STORE_SIZE.set(await to_thread.run_sync(store_size, alliances, settings))
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
