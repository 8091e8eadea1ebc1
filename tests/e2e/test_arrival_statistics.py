"""The published tables, measured from outside as a user would (issue 25): when do replies reach a webhook?

A real `novaro-lite serve` at a small `time_scale` gets a few hundred async requests for an agent that is
always awake; a loopback receiver notes when each reply arrives. A reply's delay is measured from the moment
the test sent its request (before the POST) to the moment the receiver got it, times `time_scale`: nothing
is subtracted. Its shares are checked against the tables docs/api.md publishes (the cold table; the online
table inside a session). tests/domain/test_arrival.py checks the model's draw in-process; this checks what
the whole pipeline delivers.

Why not simply a small enough `time_scale`: on this project's 2-core machines, loaded to 10 and more, a
delivery can come a second or two late, and at `time_scale` 60 two seconds are two model minutes, more than
the first band. A scale at which two seconds are negligible against one minute (about 3) would take hours
for the 90-minute band. So each band is checked from both sides, with what lateness does stated:
- The agent types at 120 words a minute: the demo model's reply (150-190 characters) takes 15-26 s, so a
  reply drawn sooner than that, which physics makes arrive when its typing ends, stays in the first band of
  either table. (At the default 40 wpm it takes 47-70 s, and 3.7% of cold replies would move from the
  first minute to the second band: docs/api.md says so, tests/domain/test_arrival.py checks it.) So the
  number of replies that truly arrive in a band, as the server would deliver them with no delay of its own,
  is binomial(n, the band's probability).
- A reply never arrives before that moment (the server holds it until then, and the test's clock starts
  before the server's), and at most `slack` after it. `slack` is measured in the same run, from outside too:
  fixed-delay requests (`"delay": {"seconds": N}`: no typing), sent among the others and due evenly across
  the window, arrive late by what the server took to claim, write and POST them and the receiver to note
  it. A humanlike reply takes three such steps (its read, its typing, its arrival), and half a step more when
  its typing step comes after its arrival and types it again from then; so `slack` is four times the worst
  control's lateness plus 50 ms, in model seconds. Measured on a 2-core machine shared with other test runs:
  at load 5, 29 model seconds in the cold run at `time_scale` 60, 75 in the online run, 1,700 at 900; at
  load 15-20, 150, 400-560 and 4,500. The checks loosen with the load instead of failing: on a busy machine
  the online table's first band and the bands of the run at 900 are checked loosely; the cold run at 60
  keeps its power longest.
- So a band [a, b) of probability p must have at least `low` of the n replies in [a, b + slack) and at most
  `high` in [a + slack, b) (from 0 for the first band), `low` and `high` being exact binomial bounds that a
  server keeping the table crosses with probability under 1e-6 each (about 4.8 sigma): with at most ten
  bounds a run, it fails less than once in 100,000 runs.
- Each run's scale suits the bands it checks: a band lasts long enough on the wall clock not to drown in
  a few tenths of a second of lateness, and the run ends in seconds. At `time_scale` 60 the first minute
  lasts 1 s and five minutes 5 s: that run checks the cold bands up to 5 minutes, and the online table (its
  first band, 30 s, lasts half a second there). At 900, five to ninety minutes last 6 s: that run checks the
  bands from 5 to 90 minutes and the share left after 90 minutes; the 24-hour edge (96 s away) is checked
  on the `scheduledFor` the server announced for the replies still pending.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import test_async_delivery
from tests.e2e.test_async_delivery import Api, novaro, until
from tests.fakes.receiver import Receiver

receiver = test_async_delivery.receiver  # the same fixture: (Receiver, its URL)

INF = math.inf
ALPHA = 1e-6  # how likely a server that keeps the table crosses one bound
REQUESTS = 300  # cold requests per run
CONVERSATIONS = 200  # sessions of the online run, one timed reply each
CONTROLS = 40  # fixed-delay requests per run, to measure the pipeline's own lateness
EPSILON = 0.05  # wall seconds of lateness allowed besides three steps': the receiver's and the clocks' jitter
AGENT = {
    "name": "Mira",
    "location": "Oslo",
    "activeHours": {"start": "00:00", "end": "00:00"},  # never asleep: sleep must not move any reply
    "typingSpeedWpm": 120,  # typing fits in the first band of either table (see the module docstring)
}


@dataclasses.dataclass(frozen=True)
class Band:
    """Replies arriving in [lower, upper) model seconds after their request, with this probability."""

    lower: float
    upper: float
    probability: float


# docs/api.md#timing, with the bands a run cannot resolve merged into one.
COLD_MINUTES = (Band(0, 60, 0.10), Band(60, 300, 0.50), Band(300, INF, 0.40))
COLD_HOURS = (
    Band(0, 300, 0.60), Band(300, 900, 0.20), Band(900, 1800, 0.10), Band(1800, 5400, 0.09), Band(5400, INF, 0.01)
)  # fmt: skip
# docs/api.md, "Presence": 60% under 30 s, 30% under 2 min, 10% under 5 min, none later.
ONLINE = (Band(0, 30, 0.60), Band(30, 120, 0.30), Band(120, 300, 0.10), Band(300, INF, 0.0))


@dataclasses.dataclass(frozen=True)
class Sent:
    """A request as the test sent it: when (time.monotonic(), before the POST), and what the server answered."""

    at: float
    accepted: dict[str, Any]
    fixed: int | None  # a control's delay in model seconds; None for a reply timed by the model

    @property
    def id(self) -> str:
        return str(self.accepted["id"])


def binomial_bounds(n: int, p: float, alpha: float = ALPHA) -> tuple[int, int]:
    """The fewest and the most successes in n trials of probability p, each passed with probability < alpha."""
    pmf = [math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    low, below = 0, 0.0
    while below + pmf[low] < alpha:
        below += pmf[low]
        low += 1
    high, above = n, 0.0
    while above + pmf[high] < alpha:
        above += pmf[high]
        high -= 1
    return low, high


def count(delays: Sequence[float], lower: float, upper: float) -> int:
    """How many delays (model seconds; INF: not arrived by the end) fall in [lower, upper)."""
    return sum(lower <= delay and (upper == INF or delay < upper) for delay in delays)


def misfits(delays: Sequence[float], bands: Sequence[Band], slack: float) -> list[str]:
    """The bounds a run's delays cross, in words."""
    found = []
    for band in bands:
        low, high = binomial_bounds(len(delays), band.probability)
        reached = count(delays, band.lower, band.upper + slack)
        kept = count(delays, band.lower + slack if band.lower else 0.0, band.upper)
        name = f"[{band.lower:g} s, {band.upper:g} s) ({band.probability:.0%} of {len(delays)})"
        if reached < low:
            found.append(f"{name}: {reached} arrived in [{band.lower:g}, {band.upper + slack:g}), fewer than {low}")
        if kept > high:
            found.append(f"{name}: {kept} arrived in [{band.lower + slack:g}, {band.upper:g}), more than {high}")
    return found


def send(api: Api, bodies: Sequence[tuple[dict[str, Any], int | None]]) -> list[Sent]:
    """POST every body (from 4 threads, as a busy client would); note when each was sent."""

    def post(item: tuple[dict[str, Any], int | None]) -> Sent:
        body, fixed = item
        at = time.monotonic()
        response = api.client.post("/api/v1/message-requests", json=body)
        assert response.status_code == 202, response.text
        return Sent(at, response.json(), fixed)

    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(post, bodies))


def controls(base: dict[str, Any], horizon: float) -> list[tuple[dict[str, Any], int | None]]:
    """Fixed-delay requests due evenly across the run's window (model seconds), to measure the pipeline."""
    seconds = [round(horizon * (index + 1) / CONTROLS) for index in range(CONTROLS)]
    return [({**base, "reference": f"control-{n}", "delay": {"seconds": n}}, n) for n in seconds]


def first_arrivals(rx: Receiver) -> dict[str, float]:
    arrived: dict[str, float] = {}
    for receipt in list(rx.receipts):
        arrived.setdefault(receipt.json["id"], receipt.at)
    return arrived


def observe(rx: Receiver, sent: Sequence[Sent], scale: float, horizon: float) -> tuple[dict[str, float], float]:
    """Wait until every request was watched for `horizon` model seconds plus the slack; return each timed
    reply's delay (model seconds, INF if it has not arrived) by request id, and the slack (model seconds)."""
    checks = [request for request in sent if request.fixed is not None]

    def every_control() -> dict[str, float] | None:
        found = first_arrivals(rx)
        return found if all(check.id in found for check in checks) else None

    arrived = until(every_control, 60, "the fixed-delay requests")
    lateness = max(arrived[check.id] - check.at - (check.fixed or 0) / scale for check in checks)
    slack = scale * (4 * max(lateness, 0.0) + EPSILON)
    end = max(request.at for request in sent) + (horizon + slack) / scale
    until(lambda: time.monotonic() >= end, 60 + (horizon + slack) / scale, "the end of the window")
    arrived = first_arrivals(rx)
    timed = [request for request in sent if request.fixed is None]
    return {r.id: (arrived[r.id] - r.at) * scale if r.id in arrived else INF for r in timed}, slack


def assert_on_table(delays: Sequence[float], bands: Sequence[Band], slack: float, scale: float) -> None:
    found = misfits(delays, bands, slack)
    shares = [f"{count(delays, band.lower, band.upper) / len(delays):.1%}" for band in bands]
    assert not found, (
        f"{found}; shares {shares}, slack {slack:.1f} model s at time_scale {scale}, load {os.getloadavg()}"
    )


def setup(api: Api, hook_url: str, **agent: Any) -> dict[str, Any]:
    """The always-awake fast typist (with `agent` on top), a webhook for replies only; a request body for them."""
    made = api.client.post("/api/v1/agents", json=AGENT | agent)
    assert made.status_code == 201, made.text
    hook = api.client.post("/api/v1/webhooks", json={"url": hook_url})
    assert hook.status_code == 201, hook.text
    messages = [{"role": "user", "content": "hi"}]
    return {"agentId": made.json()["id"], "webhookId": hook.json()["id"], "reference": "r", "messages": messages}


def test_the_bounds_pass_the_table_and_catch_what_issue_25_measured():
    """The checks themselves, without a server: 300 replies spread as the table says pass with a few model seconds
    of slack; spread as issue 25 measured before its fix (1% within a minute, 33% in 5-15 minutes), they fail."""

    def spread(shares: Sequence[tuple[float, int]]) -> list[float]:
        return [delay for delay, number in shares for _ in range(number)]

    table = spread([(30, 30), (180, 150), (600, 60), (1200, 30), (3000, 27), (9000, 3)])
    assert misfits(table, COLD_MINUTES, 5) == misfits(table, COLD_HOURS, 5) == []
    measured = spread([(30, 3), (180, 140), (600, 99), (1200, 30), (3000, 26), (9000, 2)])
    assert len(misfits(measured, COLD_MINUTES, 5)) == 1 and len(misfits(measured, COLD_HOURS, 5)) == 1


def interleave(timed: list[Any], checks: list[Any]) -> list[Any]:
    """The controls spread among the timed requests, so that they are sent all along the burst."""
    step = len(timed) // len(checks)
    mixed: list[Any] = []
    for index, check in enumerate(checks):
        mixed += [*timed[index * step : (index + 1) * step], check]
    return mixed + timed[len(checks) * step :]


@pytest.mark.parametrize(
    ("scale", "bands", "last_band_ends_in_a_day"),
    [(60, COLD_MINUTES, False), (900, COLD_HOURS, True)],
    ids=["minutes", "hours"],
)
def test_cold_replies_reach_the_webhook_on_the_published_table(
    tmp_path: Path, receiver: tuple[Receiver, str], scale: float, bands: Sequence[Band], last_band_ends_in_a_day: bool
):
    rx, hook_url = receiver
    horizon = bands[-1].lower  # the last band starts at the last edge this run checks
    with novaro(tmp_path, time_scale=scale) as api:
        base = setup(api, hook_url)
        timed = [({**base, "reference": f"cold-{index}"}, None) for index in range(REQUESTS)]
        sent = send(api, interleave(timed, controls(base, horizon)))
        delays, slack = observe(rx, sent, scale, horizon)
        assert_on_table(list(delays.values()), bands, slack, scale)
        if last_band_ends_in_a_day:  # 24 hours is too long to wait for: the replies still pending are due by then
            for request_id in (request_id for request_id, delay in delays.items() if delay == INF):
                shown = api.get(request_id)
                assert shown["scheduledFor"] - shown["createdAt"] <= 86_400 / scale + 1, shown


def test_replies_inside_a_session_reach_the_webhook_on_the_online_table(tmp_path: Path, receiver: tuple[Receiver, str]):
    rx, hook_url = receiver
    scale, horizon = 60, ONLINE[-1].lower
    # Sessions last a day on average, so none ends during the run; a message that still came in cold draws
    # from a week and is told apart by its scheduledFor.
    away: dict[str, Any] = {"presence": {"enabled": True, "meanSessionMinutes": 1440}}
    away["responseTimes"] = [{"upToSeconds": 7 * 86_400, "probability": 1}]
    with novaro(tmp_path, time_scale=scale) as api:
        base = setup(api, hook_url, **away)
        chats = [{**base, "conversationId": f"chat-{index}"} for index in range(CONVERSATIONS)]
        send(api, [({**chat, "reference": "opening", "delay": "immediate"}, None) for chat in chats])
        rx.wait_for(CONVERSATIONS, timeout=60)

        def every_opening_recorded() -> bool:  # and so every session started
            listed = api.client.get("/api/v1/message-requests", params={"status": "delivered", "limit": 1})
            return bool(listed.json()["total"] == CONVERSATIONS)

        until(every_opening_recorded, 30, "every opening reply recorded")
        follow_ups = [({**chat, "reference": "follow-up"}, None) for chat in chats]
        sent = send(api, interleave(follow_ups, controls(base, horizon)))
        cold = [
            s
            for s in sent
            if s.fixed is None and s.accepted["scheduledFor"] - s.accepted["createdAt"] > horizon / scale + 1
        ]
        assert len(cold) <= CONVERSATIONS // 10, "most follow-ups must come inside their session"
        delays, slack = observe(rx, [s for s in sent if s not in cold], scale, horizon)
        assert_on_table(list(delays.values()), ONLINE, slack, scale)
