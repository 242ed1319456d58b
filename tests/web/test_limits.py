"""What keeps the server from amplifying DNS traffic: rate limit, query budget, gate, body size."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from spfkit.lookup import Lookup, LookupStatus, MemoryResolver, RRType
from spfkit.web import create_app
from spfkit.web.limits import (
    MAX_QUERIES,
    BudgetResolver,
    Busy,
    EvaluationGate,
    RateLimited,
    RateLimiter,
    client_key,
)
from tests.web.conftest import make_client


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the token bucket ---------------------------------------------------------------------------


def test_bucket_allows_a_burst_then_one_request_per_interval() -> None:
    clock = FakeClock()
    limiter = RateLimiter(6, clock=clock)  # 6 a minute: one token every 10 s
    assert [limiter.take("a") for _ in range(6)] == [0.0] * 6
    assert limiter.take("a") == pytest.approx(10.0)
    assert limiter.take("b") == 0.0  # another client has its own bucket
    clock.now += 5
    assert limiter.take("a") == pytest.approx(5.0)  # refused requests cost nothing
    clock.now += 5
    assert limiter.take("a") == 0.0
    clock.now += 3600  # a bucket never holds more than the burst
    assert [limiter.take("a") for _ in range(7)][-1] > 0


def test_check_raises_with_whole_seconds() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, clock=clock)
    limiter.check("a")
    with pytest.raises(RateLimited) as caught:
        limiter.check("a")
    assert caught.value.retry_after == 60 and caught.value.rate == 1
    clock.now += 59.5
    with pytest.raises(RateLimited) as caught:
        limiter.check("a")
    assert caught.value.retry_after == 1


def test_memory_is_bounded_by_forgetting_the_least_recent_client() -> None:
    clock = FakeClock()
    limiter = RateLimiter(1, max_clients=3, clock=clock)
    for name in ("a", "b", "c"):
        limiter.take(name)
    limiter.take("a")  # refused, but "a" is now the most recent
    limiter.take("d")
    assert len(limiter) == 3
    assert limiter.take("a") > 0  # still remembered
    assert limiter.take("b") == 0.0  # forgotten: a fresh bucket


@pytest.mark.parametrize(("host", "key"), [
    ("192.0.2.7", "192.0.2.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.7", "192.0.2.7"),
    ("testclient", "testclient"),
    (None, "unknown"),
])
def test_clients_are_counted_by_address_and_ipv6_slash_64(host: str | None, key: str) -> None:
    assert client_key(host) == key


def test_rate_limiter_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)
    with pytest.raises(ValueError):
        EvaluationGate(0)


# -- the rate limit in the app ----------------------------------------------------------------


def test_api_answers_429_with_retry_after_then_recovers() -> None:
    clock = FakeClock()
    client = make_client(rate_limit=3, clock=clock)
    params = {"ip": "192.0.2.25", "sender": "alice@example.com"}
    assert [client.get("/api/test", params=params).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/api/test", params=params)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "20"
    assert refused.json() == {"detail": "Too many requests: this server answers at most 3 a minute "
                                        "from one client. Try again in 20 s."}
    # every route that does work shares the client's bucket; invalid requests count too
    assert client.post("/api/wizard", json={"domain": "example.org"}).status_code == 429
    assert client.get("/check", params={"domain": "example.com"}).status_code == 429
    # pages without input, the schema and static files do no work and are not counted
    for path in ("/", "/wizard", "/check", "/test", "/openapi.json", "/static/app.css"):
        assert client.get(path).status_code == 200, path
    other = make_client(rate_limit=3, clock=clock, client=("192.0.2.200", 40000))
    assert other.get("/api/test", params=params).status_code == 200
    clock.now += 20
    assert client.get("/api/test", params=params).status_code == 200


def test_pages_answer_429_as_a_page() -> None:
    clock = FakeClock()
    client = make_client(rate_limit=1, clock=clock)
    assert client.get("/test", params={"ip": "192.0.2.25", "sender": "example.com"}).status_code == 200
    page = client.get("/test", params={"ip": "192.0.2.25", "sender": "example.com"})
    assert page.status_code == 429
    assert page.headers["retry-after"] == "60"
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="form-error" role="alert"' in page.text
    assert "Too many requests" in page.text and "Try again in 60 s." in page.text


# -- the per-request DNS budget -----------------------------------------------------------------

#: a tree that would make thousands of queries with the limits lifted: 9 includes, each with
#: 9 "mx:" terms, each naming 10 MX hosts that have no address
BOMB: dict[str, Any] = {
    "bomb.example": {"TXT": "v=spf1 " + " ".join(f"include:i{k}.bomb.example" for k in range(9))
                     + " -all"},
    **{f"i{k}.bomb.example": {"TXT": "v=spf1 " + " ".join(f"mx:m{k}{j}.bomb.example" for j in range(9))
                              + " -all"} for k in range(9)},
    **{f"m{k}{j}.bomb.example": {"MX": [[10, f"h{n}.m{k}{j}.bomb.example"] for n in range(10)]}
       for k in range(9) for j in range(9)},
}


def test_a_check_request_asks_at_most_max_queries() -> None:
    world = MemoryResolver(BOMB)
    client = make_client(world, max_queries=60)
    response = client.get("/api/check", params={"domain": "bomb.example"})
    assert response.status_code == 200
    body = response.json()
    assert len(world.queries) == body["dns_queries"] == 60
    assert body["query_limit_reached"] is True
    assert body["tree"]["ipv4"]["result"] in ("permerror", "temperror")


def test_a_wizard_request_says_when_its_budget_ran_out() -> None:
    world = MemoryResolver(BOMB)
    client = make_client(world, max_queries=20)
    body = client.post("/api/wizard", json={"domain": "bomb.example",
                                            "includes": ["i1.bomb.example"]}).json()
    assert len(world.queries) == body["dns_queries"] == 20
    assert body["query_limit_reached"] is True
    calm = make_client(MemoryResolver(BOMB)).post("/api/wizard", json={"domain": "bomb.example"})
    assert calm.json()["query_limit_reached"] is False


def test_a_test_request_keeps_to_the_rfc_limits() -> None:
    world = MemoryResolver(BOMB)
    client = make_client(world)
    body = client.get("/api/test", params={"ip": "192.0.2.1", "sender": "x@bomb.example"}).json()
    assert body["result"] == "permerror"
    # §4.6.4: the receiver's evaluation stops at 10 DNS-querying terms or 3 void lookups ...
    assert body["lookups"] <= 10 and body["void_lookups"] <= 3
    # ... and the page then learns the real total (issue 15 item 1) with the limits lifted,
    # within the request's budget of DNS questions
    assert body["budget"]["level"] == "over"
    assert (body["budget"]["lookups"]["needed"] > 10 or body["budget"]["void_lookups"]["needed"] > 2)
    assert len(world.queries) == body["dns_queries"] <= MAX_QUERIES


def test_budget_remembers_answers_and_refuses_past_its_bounds() -> None:
    world = MemoryResolver({"a.example": {"TXT": "v=spf1 -all", "A": "192.0.2.1"}})
    clock = FakeClock()
    budget = BudgetResolver(world, max_queries=2, deadline=10, clock=clock)

    async def run() -> list[Lookup[Any]]:
        first = await budget.txt("a.example")
        again = await budget.txt("A.EXAMPLE.")  # same question: no second query
        address = await budget.a("a.example")
        over = await budget.mx("a.example")  # the third distinct question
        return [first, again, address, over]

    first, again, address, over = asyncio.run(run())
    assert first is again and first.status is LookupStatus.ANSWER
    assert address.status is LookupStatus.ANSWER
    assert over.status is LookupStatus.TIMEOUT
    assert len(world.queries) == budget.queries == 2 and budget.refused == 1 and budget.exhausted


def test_budget_refuses_after_the_deadline() -> None:
    world = MemoryResolver({"a.example": {"A": "192.0.2.1"}})
    clock = FakeClock()
    budget = BudgetResolver(world, deadline=10, clock=clock)
    clock.now += 10
    assert asyncio.run(budget.a("a.example")).status is LookupStatus.TIMEOUT
    assert world.queries == []


# -- concurrency ------------------------------------------------------------------------------


class Slow(MemoryResolver):
    """Answers every TXT question only once ``release`` is set; sets ``asked`` when asked one."""

    release: asyncio.Event
    asked: asyncio.Event

    async def lookup(self, rrtype: RRType, name: str) -> Any:
        if rrtype is RRType.TXT:
            self.asked.set()
            await self.release.wait()
        return await super().lookup(rrtype, name)


def test_gate_refuses_when_every_slot_stays_busy() -> None:
    async def scenario() -> tuple[int, int, str, int]:
        slow = Slow({"example.com": {"TXT": "v=spf1 -all"}})
        slow.release, slow.asked = asyncio.Event(), asyncio.Event()
        app = create_app(slow, rate_limit=None, receiver="mx.test", max_concurrent=1,
                         queue_wait=0.2)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            params = {"ip": "192.0.2.1", "sender": "a@example.com"}
            first = asyncio.create_task(client.get("/api/test", params=params))
            await asyncio.wait_for(slow.asked.wait(), 10)  # the first one holds the only slot
            second = await client.get("/api/test", params=params)
            slow.release.set()
            done = await first
        return second.status_code, done.status_code, second.headers["retry-after"], len(slow.queries)

    busy, done, retry_after, queries = asyncio.run(scenario())
    assert (busy, done, retry_after) == (503, 200, "1")


def test_gate_runs_work_and_releases_its_slot() -> None:
    gate = EvaluationGate(1, wait=0.05)

    async def scenario() -> list[object]:
        async def work() -> str:
            return "done"

        async def failing() -> str:
            raise RuntimeError("boom")

        results: list[object] = [await gate.run(work)]
        with pytest.raises(RuntimeError):
            await gate.run(failing)
        results.append(await gate.run(work))  # the failure gave its slot back
        return results

    assert asyncio.run(scenario()) == ["done", "done"]
    assert isinstance(Busy(3).retry_after, int)
