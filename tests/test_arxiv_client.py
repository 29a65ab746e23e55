"""The arXiv adapter with the real ``arxiv`` package against the loopback arXiv fake."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.clients.arxiv_api import ArxivGateway, RequestGate
from bot.errors import RateLimitedError, RejectedError, TransientError
from tests.fakes.arxiv import HTML_PAGE, RATE_EXCEEDED, FakeArxiv
from tests.fakes.http import Response
from tests.fixtures.papers import MALDACENA, PROBES


@pytest.fixture(params=[False, True], ids=["2026-format", "legacy-format"])
def server(request: pytest.FixtureRequest) -> Iterator[FakeArxiv]:
    fake = FakeArxiv(legacy=request.param)
    yield fake
    fake.close()


def gateway(server: FakeArxiv, delay: float = 0.0, timeout: float = 5.0) -> ArxivGateway:
    return ArxivGateway(api_url=server.api_url, delay_seconds=delay, timeout=timeout)


def test_fetches_a_batch_in_one_request_and_matches_entries_by_id(server: FakeArxiv) -> None:
    papers = gateway(server).fetch(["1706.03762", "hep-th/9711200", "2504.18412", "2101.00042"])
    assert server.id_lists() == [["1706.03762", "hep-th/9711200", "2504.18412", "2101.00042"]]
    assert set(papers) == {"1706.03762", "hep-th/9711200", "2504.18412", "2101.00042"}
    maldacena = papers["hep-th/9711200"]
    assert maldacena.version == 3
    assert maldacena.title == MALDACENA.title
    assert maldacena.authors == ("Juan M. Maldacena",)
    assert maldacena.primary_category == "hep-th"
    assert maldacena.published == datetime(1997, 11, 27, 19, 6, 49, tzinfo=UTC)
    assert maldacena.comment == MALDACENA.comment


def test_whitespace_is_normalised_in_both_serialisations(server: FakeArxiv) -> None:
    probes = gateway(server).fetch(["2504.18412"])["2504.18412"]
    assert probes.title == " ".join(PROBES.title.split())
    assert probes.abstract == " ".join(PROBES.summary.split())
    assert "\n" not in probes.abstract
    assert not probes.abstract.startswith(" ")


def test_unknown_ids_are_simply_absent(server: FakeArxiv) -> None:
    papers = gateway(server).fetch(["2301.00001", "1706.03762"])
    assert list(papers) == ["1706.03762"]


def test_more_than_100_ids_go_in_batches_of_100(server: FakeArxiv) -> None:
    ids = [f"2301.{n:05d}" for n in range(1, 251)]
    gateway(server).fetch(ids)
    assert [len(batch) for batch in server.id_lists()] == [100, 100, 50]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Response(500, b"oops", "text/plain"), TransientError),
        (Response(503, b"", "text/plain"), RateLimitedError),
        (Response(429, b"", "text/plain"), RateLimitedError),
        (RATE_EXCEEDED, RateLimitedError),
        (HTML_PAGE, RateLimitedError),
    ],
    ids=["500", "503", "429", "rate-exceeded", "html-page"],
)
def test_failures_are_errors_never_no_such_paper(
    server: FakeArxiv, fault: Response, error: type[Exception]
) -> None:
    server.fail("GET", "/api/query", fault)
    with pytest.raises(error):
        gateway(server).fetch(["1706.03762"])
    assert len(server.requests) == 1, "no hidden retries: the scheduler retries"


def test_a_malformed_id_is_a_rejection(server: FakeArxiv) -> None:
    with pytest.raises(RejectedError):
        gateway(server).fetch(["abc"])


def test_a_slow_answer_times_out(server: FakeArxiv) -> None:
    server.fail("GET", "/api/query", None, delay=1.0)
    started = time.monotonic()
    with pytest.raises(TransientError, match="in time"):
        gateway(server, timeout=0.2).fetch(["1706.03762"])
    assert time.monotonic() - started < 0.9


def test_requests_keep_the_minimum_gap_across_calls(server: FakeArxiv) -> None:
    client = gateway(server, delay=0.15)
    for arxiv_id in ("1706.03762", "hep-th/9711200", "2504.18412"):
        client.fetch([arxiv_id])
    times = [r.at for r in server.requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 2
    assert min(gaps) >= 0.15, "arrivals, not just sends, are kept apart (the gate's margin)"


def test_the_gate_waits_only_as_long_as_needed() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    gate = RequestGate(3.0, clock=lambda: now[0], sleep=sleep)
    started = []
    for pause in (0.0, 1.0, 5.0):
        now[0] += pause
        with gate.turn():
            started.append(now[0])
    assert slept == [pytest.approx(2.02)]
    assert started == [100.0, pytest.approx(103.02), pytest.approx(108.02)]
