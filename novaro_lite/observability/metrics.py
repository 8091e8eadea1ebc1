"""Metrics: the Prometheus series novaro-lite exports at /metrics, on a registry of the app's own.

One Metrics object per app (no global registry), built by create_app and shared through Services, so
tests never see each other's counts. When [metrics] enabled is false every method returns at once.
Labels are bounded sets: HTTP method, route template, status, outcome, provider and model names from the
configuration (any other model is `other`: generation.model_label), token kinds. Never content, ids, paths or tokens.

With `serve --workers N` a scrape reaches one worker but must count the whole server, so the workers run
prometheus_client's multiprocess mode: the parent points PROMETHEUS_MULTIPROC_DIR at a private directory
of its own (workers/handoff.py) before the workers start, every worker's values live in files there, and render()
adds up all of them with a MultiProcessCollector instead of reading this process's registry. Counters and
histograms sum across workers (a worker that died keeps its counts, so no counter goes backwards). The two
queue gauges are set from the database by whichever worker renders, just before it collects, so they use
"mostrecent": the value written last is the current one ("all" would show a stale series per worker,
"sum" would multiply the backlog by the number of workers). One process alone ignores those modes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

from novaro_lite.domain.messages import Usage

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
DELIVERY_OUTCOMES = ("delivered", "retry", "failed", "canceled", "superseded", "paused")
CHECK_INS_HELP = (
    "Check-ins by event: scheduled, delivered, canceled (the reason as `why`), refused (the rule as `why`)."
)
QUEUE_STATUSES = ("scheduled", "generating", "delivering", "paused")
OVERHEAD_BUCKETS = (0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
SLOW_BUCKETS = (0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 6 * 3600.0, 24 * 3600.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclasses.dataclass(frozen=True)
class QueueStats:
    """The queue at scrape time: pending requests by status and how long the oldest due one has waited."""

    pending: Mapping[str, int]
    oldest_due_age_seconds: float
    erasure_overdue_seconds: float = 0.0  # how long purged content has outlived its erase window (SQLite's WAL)


GROUP_REPLY_MODES = ("realtime", "async")


def _http_series(registry: CollectorRegistry) -> tuple[Counter, Histogram, Histogram]:
    """Requests by route and status, their durations, and the realtime replies' overhead."""
    total = Counter("novaro_http_requests", "HTTP requests answered.", ("method", "route", "status"), registry=registry)
    seconds = Histogram(
        "novaro_http_request_duration_seconds",
        "Time from a request's arrival to the end of its response (streams included).",
        ("method", "route"),
        registry=registry,
    )
    overhead = Histogram(
        "novaro_http_overhead_seconds",
        "A realtime reply's time minus its LLM provider calls' time: what novaro-lite added.",
        ("route",),
        buckets=OVERHEAD_BUCKETS,
        registry=registry,
    )
    return total, seconds, overhead


class Metrics:
    def __init__(self, *, enabled: bool, multiprocess_dir: Path | None = None) -> None:
        """`multiprocess_dir`: the directory every worker of this server counts in (serve --workers)."""
        if multiprocess_dir is not None and values.ValueClass is values.MutexValue:
            # Counting in memory while rendering the files would export zeros, without a word.
            raise RuntimeError("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set")
        self.enabled, self.multiprocess_dir = enabled, multiprocess_dir
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self._http_total, self._http_seconds, self._overhead = _http_series(registry)
        self._accepted = Counter(
            "novaro_message_requests_accepted",
            "Async message requests answered 202 (an idempotent replay answers, and counts, again).",
            registry=registry,
        )
        self._deliveries = Counter(
            "novaro_deliveries", "Delivery attempts and request endings by outcome.", ("outcome",), registry=registry
        )
        self._attempt_seconds = Histogram(
            "novaro_delivery_attempt_duration_seconds",
            "Time one delivery attempt took, generating the reply included.",
            registry=registry,
        )
        self._lateness = Histogram(
            "novaro_delivery_lateness_seconds",
            "How long after its due time a reply was delivered.",
            buckets=SLOW_BUCKETS,
            registry=registry,
        )
        self._pending = Gauge(
            "novaro_queue_pending",
            "Pending message requests.",
            ("status",),
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self._oldest = Gauge(
            "novaro_queue_oldest_due_age_seconds",
            "How long the oldest request that is due has waited past its due time (0 when none is late).",
            registry=registry,
            multiprocess_mode="mostrecent",
        )
        self._erasure_overdue = Gauge(
            "novaro_erasure_overdue_seconds",
            "How long purged content has outlived its 10 s erase window, because a reader holds the SQLite WAL"
            " (0 when none has).",
            registry=registry,
            multiprocess_mode="max",
        )
        self._provider_seconds = Histogram(
            "novaro_provider_request_duration_seconds",
            "Time an LLM provider took to answer (whole stream included).",
            ("provider", "model", "outcome"),
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
            registry=registry,
        )
        self._provider_tokens = Counter(
            "novaro_provider_tokens", "Tokens the providers reported.", ("provider", "model", "kind"), registry=registry
        )
        self._check_ins = Counter("novaro_check_ins", CHECK_INS_HELP, ("event", "why"), registry=registry)
        self._group_replies = _group_replies(registry)
        for outcome in DELIVERY_OUTCOMES:
            self._deliveries.labels(outcome)  # every outcome shows, at 0, before it first happens
        for status in QUEUE_STATUSES:
            self._pending.labels(status)

    def http_request(self, method: str, route: str, status: int, seconds: float) -> None:
        if not self.enabled:
            return
        method = method if method in METHODS else "OTHER"
        self._http_total.labels(method, route, str(status)).inc()
        self._http_seconds.labels(method, route).observe(seconds)

    def overhead(self, route: str, seconds: float) -> None:
        if self.enabled:
            self._overhead.labels(route).observe(max(0.0, seconds))

    def accepted(self) -> None:
        if self.enabled:
            self._accepted.inc()

    def group_reply(self, mode: str) -> None:
        """Count one reply written in a group: "realtime" (in a response) or "async" (delivered)."""
        if self.enabled:
            self._group_replies.labels(mode).inc()

    def delivery(
        self, outcome: str, *, seconds: float | None = None, lateness: float | None = None, count: int = 1
    ) -> None:
        if not self.enabled:
            return
        self._deliveries.labels(outcome).inc(count)
        if seconds is not None:
            self._attempt_seconds.observe(seconds)
        if lateness is not None:
            self._lateness.observe(max(0.0, lateness))

    def check_in(self, event: str, why: str = "", count: int = 1) -> None:
        """Count a check-in event; `why` is a reason (domain/check_ins.py REASONS) or a rule (RULES), a bounded set."""
        if self.enabled:
            self._check_ins.labels(event, why).inc(count)

    def provider_call(self, provider: str, model: str, outcome: str, seconds: float, usage: Usage | None) -> None:
        if not self.enabled:
            return
        self._provider_seconds.labels(provider, model, outcome).observe(seconds)
        if usage is not None:
            self._provider_tokens.labels(provider, model, "prompt").inc(usage.prompt_tokens)
            self._provider_tokens.labels(provider, model, "completion").inc(usage.completion_tokens)

    def render(self, queue: QueueStats) -> bytes:
        """Return the text exposition, with the queue gauges set from `queue`."""
        for status in QUEUE_STATUSES:
            self._pending.labels(status).set(queue.pending.get(status, 0))
        self._oldest.set(queue.oldest_due_age_seconds)
        self._erasure_overdue.set(queue.erasure_overdue_seconds)
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        # A registry of its own for each scrape, holding only the collector (prometheus_client's advice):
        # registering the live metrics too would export every series twice.
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)


def _group_replies(registry: CollectorRegistry) -> Counter:
    """The group replies series, with both modes shown at 0 before they first happen."""
    counter = Counter("novaro_group_replies", "Group replies by mode (realtime, async).", ("mode",), registry=registry)
    for mode in GROUP_REPLY_MODES:
        counter.labels(mode)
    return counter
