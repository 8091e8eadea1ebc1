"""What `novaro-lite bench` measures on one server, given an agent and a webhook to a loopback receiver.

1. Overhead: sequential requests (one connection), interleaved round by round with the same requests sent
   straight to the upstream when it is reachable (the fake one): the difference of the medians of the round
   medians, for `/api/v1/messages` and `/v1/chat/completions`. Always also the median of what the server's
   own `Server-Timing` header says it added (total − provider).
2. Realtime throughput: `/api/v1/messages` over N connections, rounds interleaved with the upstream alone.
3. Enqueue: `POST /api/v1/message-requests` over N connections, every request due D seconds after it was
   accepted (D longer than the enqueueing takes, so no delivery competes with it); beside it, the same
   number of `GET /api/v1/auth/verify` (authenticated, no work: the ceiling an endpoint can reach).
4. Deliveries per second: those requests, from the first arrival at the receiver to the last. When the
   server delivered each as it fell due, the rate only shows how fast they were accepted: the report
   says so (`deliveries_kept_up`) and the figure is a lower bound.
5. Lateness: requests accepted at a steady pace (200 a second), each due 2 s after it was sent; lateness is
   arrival − (send time + 2 s), so the time the server took to accept it counts as late, never as early.

Every request sets `delay`, so the server must allow it ([delivery] allow_delay_override, the default),
and real seconds are assumed ([delivery] time_scale = 1, the default).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

from novaro_lite.benchmark.load import LoadResult, build_request, read_response, run_load
from novaro_lite.benchmark.loopback import Receiver

PROMPT = [{"role": "user", "content": "Dinner at 8?"}]
LATENESS_DELAY = 2  # seconds from sending a lateness request to its due time
Progress = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class Sizes:
    warmup: int = 15
    overhead_rounds: int = 7
    overhead_requests: int = 25
    rounds: int = 3
    realtime_concurrency: int = 16
    realtime_requests: int = 2000
    enqueue_concurrency: int = 64
    enqueue_requests: int = 3200
    lateness_per_second: int = 200
    lateness_seconds: float = 5.0

    def scaled(self, factor: float) -> Sizes:
        """Every count times `factor` (at least a handful each), the rounds and concurrency unchanged; the
        loads a whole number of requests per connection."""

        def times(count: int, least: int, per: int = 1) -> int:
            return max(least, round(count * factor / per)) * per

        return dataclasses.replace(
            self,
            warmup=times(self.warmup, 3),
            overhead_requests=times(self.overhead_requests, 5),
            realtime_requests=times(self.realtime_requests, 2, self.realtime_concurrency),
            enqueue_requests=times(self.enqueue_requests, 2, self.enqueue_concurrency),
            lateness_seconds=max(1.0, self.lateness_seconds * factor),
        )


@dataclasses.dataclass(frozen=True)
class Target:
    """The server under test, the agent and webhook made for the run, and the upstream to compare with."""

    url: str
    headers: dict[str, str]
    agent_id: str
    webhook_id: str
    upstream_url: str | None = None  # an OpenAI-compatible base URL ending in /v1, when it is ours


@dataclasses.dataclass
class Report:
    overhead_ms: float | None = None  # /api/v1/messages p50 − upstream p50, sequential
    overhead_v1_ms: float | None = None  # the same for /v1/chat/completions
    server_timing_overhead_ms: float | None = None  # median Server-Timing total − provider, sequential
    realtime_per_second: float | None = None
    realtime_p50_ms: float | None = None
    realtime_p99_ms: float | None = None
    upstream_per_second: float | None = None
    enqueue_per_second: float | None = None
    noop_per_second: float | None = None  # GET /api/v1/auth/verify, as many connections as enqueue
    deliveries_per_second: float | None = None
    deliveries_kept_up: bool | None = None
    lateness_p50_ms: float | None = None
    lateness_p99_ms: float | None = None
    notes: list[str] = dataclasses.field(default_factory=list)


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def _realtime_targets(target: Target) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    targets = {
        "native": (
            f"{target.url}/api/v1/messages",
            _json({"agentId": target.agent_id, "messages": PROMPT}),
            target.headers,
        ),
        "openai": (
            f"{target.url}/v1/chat/completions",
            _json({"model": target.agent_id, "messages": PROMPT}),
            target.headers,
        ),
    }
    if target.upstream_url:
        # About what the server sends upstream: a persona prompt and the conversation.
        system = {"role": "system", "content": "You are Bench. " * 40}
        direct = _json({"model": "bench", "messages": [system, *PROMPT]})
        targets["upstream"] = (f"{target.upstream_url}/chat/completions", direct, {})
    return targets


def _checked(name: str, result: LoadResult, status: int = 200) -> LoadResult:
    if result.statuses != {status}:
        raise RuntimeError(f"{name} answered {sorted(result.statuses)}, expected {status}")
    return result


async def measure_overhead(target: Target, sizes: Sizes, report: Report, progress: Progress) -> None:
    targets = _realtime_targets(target)
    for name, (url, body, headers) in targets.items():
        _checked(name, await run_load(url, body, headers, concurrency=1, requests=sizes.warmup))
    medians: dict[str, list[float]] = {name: [] for name in targets}
    server_timing: list[float] = []
    for round_number in range(sizes.overhead_rounds):
        progress(f"overhead: round {round_number + 1} of {sizes.overhead_rounds}")
        for name, (url, body, headers) in targets.items():
            result = _checked(name, await run_load(url, body, headers, concurrency=1, requests=sizes.overhead_requests))
            medians[name].append(result.p50)
            if name == "native":
                server_timing.extend(result.overheads_ms)
    if server_timing:
        report.server_timing_overhead_ms = statistics.median(server_timing)
    if "upstream" in medians:
        upstream = statistics.median(medians["upstream"])
        report.overhead_ms = statistics.median(medians["native"]) - upstream
        report.overhead_v1_ms = statistics.median(medians["openai"]) - upstream


async def measure_realtime(target: Target, sizes: Sizes, report: Report, progress: Progress) -> None:
    targets = {name: spec for name, spec in _realtime_targets(target).items() if name != "openai"}
    results: dict[str, list[LoadResult]] = {name: [] for name in targets}
    for round_number in range(sizes.rounds):
        progress(f"realtime throughput: round {round_number + 1} of {sizes.rounds}")
        for name, (url, body, headers) in targets.items():
            load = run_load(
                url, body, headers, concurrency=sizes.realtime_concurrency, requests=sizes.realtime_requests
            )
            results[name].append(_checked(name, await load))
    native = results["native"]
    report.realtime_per_second = statistics.median(result.throughput for result in native)
    report.realtime_p50_ms = statistics.median(result.p50 for result in native)
    report.realtime_p99_ms = statistics.median(result.percentile(99) for result in native)
    if "upstream" in results:
        report.upstream_per_second = statistics.median(result.throughput for result in results["upstream"])


def _request(target: Target, delay: int | str, reference: str) -> dict[str, Any]:
    return {
        "agentId": target.agent_id,
        "webhookId": target.webhook_id,
        "reference": reference,
        "delay": delay if isinstance(delay, str) else {"seconds": delay},
        "messages": PROMPT,
    }


async def measure_queue(target: Target, receiver: Receiver, sizes: Sizes, report: Report, progress: Progress) -> bool:
    """Enqueue rate and deliveries per second; False (with a note) when deliveries do not reach the receiver."""
    url = f"{target.url}/api/v1/message-requests"
    progress("enqueue: warming up, and checking that deliveries arrive")
    receiver.clear()
    warmup = _checked(
        "enqueue",
        await run_load(
            url, _json(_request(target, "immediate", "bench-warmup")), target.headers, concurrency=16, requests=160
        ),
        202,
    )
    await receiver.wait_for(warmup.requests, timeout=30)
    if len(receiver.arrivals) < warmup.requests:
        report.notes.append(
            f"only {len(receiver.arrivals)} of {warmup.requests} deliveries reached the receiver within 30 s: "
            "the server cannot reach this machine's loopback, or refuses private addresses"
        )
        return False
    # Due after the enqueueing has surely ended, judging by the warm-up's pace (which was slower: fewer
    # connections, and the deliveries beside it).
    delay = min(120, 2 + math.ceil(2 * sizes.enqueue_requests / warmup.throughput))
    progress(f"authenticated no-op: {sizes.enqueue_requests} requests over {sizes.enqueue_concurrency} connections")
    noop = await run_load(
        f"{target.url}/api/v1/auth/verify",
        None,
        target.headers,
        concurrency=sizes.enqueue_concurrency,
        requests=sizes.enqueue_requests,
    )
    report.noop_per_second = _checked("auth/verify", noop).throughput
    receiver.clear()
    progress(f"enqueue: {sizes.enqueue_requests} requests over {sizes.enqueue_concurrency} connections")
    body = _json(_request(target, delay, "bench-enqueue"))
    result = _checked(
        "enqueue",
        await run_load(
            url, body, target.headers, concurrency=sizes.enqueue_concurrency, requests=sizes.enqueue_requests
        ),
        202,
    )
    report.enqueue_per_second = result.throughput
    progress(f"deliveries: {result.requests} due in {delay} s")
    await receiver.wait_for(result.requests, timeout=delay + 60 + result.requests / 20)
    arrived = sorted(receiver.arrivals.values())
    if len(arrived) < result.requests:
        report.notes.append(f"only {len(arrived)} of {result.requests} deliveries arrived in time")
        return False
    spread = arrived[-1] - arrived[0]
    report.deliveries_per_second = result.requests / spread
    report.deliveries_kept_up = spread <= 1.2 * result.seconds + 0.05
    if report.deliveries_kept_up:
        report.notes.append(
            "deliveries kept pace with the due times, which were as far apart as the requests were accepted: "
            "the delivery rate is at least the figure shown"
        )
    return True


async def measure_lateness(
    target: Target, receiver: Receiver, sizes: Sizes, report: Report, progress: Progress
) -> None:
    total = round(sizes.lateness_per_second * sizes.lateness_seconds)
    progress(f"lateness: {total} requests, {sizes.lateness_per_second} due a second")
    receiver.clear()
    url = f"{target.url}/api/v1/message-requests"
    host, port, raw = build_request(url, _json(_request(target, LATENESS_DELAY, "bench-lateness")), target.headers)
    due: dict[str, float] = {}
    numbers = iter(range(total))
    began = time.monotonic()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for number in numbers:
                await asyncio.sleep(max(0.0, began + number / sizes.lateness_per_second - time.monotonic()))
                sent = time.time()
                writer.write(raw)
                status, _, answer = await read_response(reader)
                if status != 202:
                    raise RuntimeError(f"enqueue answered {status}: {answer[:200]!r}")
                due[json.loads(answer)["id"]] = sent + LATENESS_DELAY
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(16)))
    await receiver.wait_for(total, timeout=LATENESS_DELAY + 60 + total / 20)
    late = sorted((receiver.arrivals[rid] - at) * 1000 for rid, at in due.items() if rid in receiver.arrivals)
    if len(late) < total:
        report.notes.append(f"lateness: only {len(late)} of {total} deliveries arrived in time")
        return
    report.lateness_p50_ms = statistics.median(late)
    report.lateness_p99_ms = late[min(len(late) - 1, int(0.99 * len(late)))]


async def run_suite(target: Target, receiver: Receiver, sizes: Sizes, progress: Progress) -> Report:
    report = Report()
    await measure_overhead(target, sizes, report, progress)
    await measure_realtime(target, sizes, report, progress)
    if await measure_queue(target, receiver, sizes, report, progress):
        await measure_lateness(target, receiver, sizes, report, progress)
    return report
