"""Prometheus metrics: request counts and latencies by route template, served at /metrics.

/metrics is protected: an admin session, or ``Authorization: Bearer <ZHIZAO_METRICS_TOKEN>``
for a scraper. Labels use the route template, never ids, so cardinality stays bounded.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "zhizao_http_requests_total",
    "HTTP requests by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "zhizao_http_request_duration_seconds",
    "HTTP request duration by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)

#: Verification changes (verify, unverify, flag, unflag) and the refused ones: an operator
#: alerts on unusual rates (issue #16: toggling a firm to difference the heatmaps).
VERIFICATION_CHANGES = Counter(
    "zhizao_verification_changes_total",
    "Changes of enterprises' verification, by action.",
    ["action"],
    registry=REGISTRY,
)
VERIFICATION_RATE_LIMITED = Counter(
    "zhizao_verification_rate_limited_total",
    "Verification changes refused because the same firm changed too recently, by action.",
    ["action"],
    registry=REGISTRY,
)
RATE_LIMIT_STORAGE_ERRORS = Counter(
    "zhizao_rate_limit_storage_errors_total",
    "API requests let through uncounted because the rate-limit storage (Redis) failed.",
    registry=REGISTRY,
)

#: PDF renders by who paid for them: ``worker`` (ahead of the first request, after submit),
#: ``request`` (the stored PDF was missing or stale), ``script`` (benchmarks, examples).
REPORT_RENDERS = Counter(
    "zhizao_report_renders_total",
    "PDF report renders, by origin (worker, request, script).",
    ["origin"],
    registry=REGISTRY,
)


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
