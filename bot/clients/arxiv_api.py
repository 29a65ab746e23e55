"""The arXiv adapter: batched metadata requests through one paced connection.

The ``arxiv`` package sets no timeout, retries every non-200 at a fixed delay and paces per
client instance only. So its retries are switched off (the scheduler is the retry loop), and
all its HTTP goes through :class:`_PacedTransport`, which holds the process-wide gap between
requests, applies the timeout, and refuses answers that are not Atom feeds (arXiv throttles
with HTTP 200 and a plain ``Rate exceeded.`` body, which would otherwise read as "no such
paper").
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import arxiv
import requests
from requests.adapters import HTTPAdapter

from bot import __version__
from bot.errors import RateLimitedError, RejectedError, TransientError
from bot.models import Paper

DEFAULT_API_URL = "https://export.arxiv.org/api/query"
BATCH_SIZE = 100
GATE_MARGIN = 0.02
USER_AGENT = f"arxiv-bot/{__version__} (a Mastodon bot that summarises arXiv papers)"
_ENTRY_ID = re.compile(r"/abs/(?P<id>.+?)v(?P<version>\d+)$")


class NotAFeedError(requests.RequestException):
    """arXiv answered 200 with something other than an Atom feed (throttling, an HTML page)."""


class RequestGate:
    """At most one request per ``interval`` seconds across every thread of the process.

    ``previous`` (a wall-clock time) is when the last process made its last request, so a
    restart does not make one too early either. The caller keeps that time (the gate does no
    I/O): :meth:`next_turn_at` before asking, :attr:`last_at` after.
    """

    def __init__(
        self,
        interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        previous: float | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._wall = wall
        self.last_at: float | None = previous
        """Wall-clock time of the last request, this process's or the previous one's."""
        self._last: float | None = None
        if previous is not None:
            self._last = clock() - max(wall() - previous, 0.0)
        self._lock = threading.Lock()

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._lock:
            if self._last is not None:
                # A few milliseconds to spare, so that network jitter cannot make two requests
                # *arrive* closer than the interval.
                wait = self._last + self.interval + GATE_MARGIN - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self._last = self._clock()
            self.last_at = self._wall()
            yield

    def next_turn_at(self) -> float:
        """Wall-clock time at which the next request may go."""
        if self._last is None:
            return self._wall()
        wait = self._last + self.interval + GATE_MARGIN - self._clock()
        return self._wall() + max(wait, 0.0)


class _PacedTransport(HTTPAdapter):
    def __init__(self, gate: RequestGate, timeout: float) -> None:
        super().__init__(pool_connections=1, pool_maxsize=1)
        self._gate = gate
        self._timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        request.headers["User-Agent"] = USER_AGENT
        with self._gate.turn():
            response = super().send(request, **kwargs)
        if response.status_code == 200 and not _looks_like_atom(response.content):
            snippet = response.content[:60].decode("utf-8", "replace").strip()
            raise NotAFeedError(f"arXiv answered 200 without an Atom feed: {snippet!r}")
        return response


def _looks_like_atom(body: bytes) -> bool:
    head = body[:512].lstrip()
    return head.startswith(b"<?xml") or head.startswith(b"<feed")


class ArxivGateway:
    """Fetches papers by id, at most 100 a request, never faster than the gate allows."""

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        delay_seconds: float = 3.0,
        timeout: float = 30.0,
        gate: RequestGate | None = None,
    ) -> None:
        self.gate = gate or RequestGate(delay_seconds)
        self._client = arxiv.Client(page_size=BATCH_SIZE, delay_seconds=0.0, num_retries=0)
        self._client.query_url_format = api_url.rstrip("?") + "?{}"
        session: requests.Session = self._client._session
        transport = _PacedTransport(self.gate, timeout)
        session.mount("http://", transport)
        session.mount("https://", transport)
        self._session = session

    def close(self) -> None:
        self._session.close()

    def next_request_at(self) -> float:
        return self.gate.next_turn_at()

    def last_request_at(self) -> float | None:
        return self.gate.last_at

    def fetch(self, ids: Sequence[str]) -> dict[str, Paper]:
        """Papers by id (without version; the latest version is fetched).

        Ids arXiv does not know are absent from the result. Raises TransientError when arXiv
        could not answer, RejectedError when it refused the request (a malformed id).
        """
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Paper] = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            batch = wanted[start : start + BATCH_SIZE]
            found.update(self._fetch_batch(batch))
        return found

    def _fetch_batch(self, batch: list[str]) -> dict[str, Paper]:
        search = arxiv.Search(id_list=batch, max_results=len(batch))
        asked = set(batch)
        found: dict[str, Paper] = {}
        try:
            for result in self._client.results(search):
                paper = _paper_from(result)
                if paper is not None and paper.arxiv_id in asked:
                    found[paper.arxiv_id] = paper
        except arxiv.UnexpectedEmptyPageError:
            if not found:
                raise TransientError("arXiv answered an empty page") from None
        except arxiv.HTTPError as exc:
            if exc.status == 400:
                raise RejectedError(f"arXiv refused the id list {batch}", exc.status) from exc
            if exc.status in (429, 503):
                raise RateLimitedError(
                    f"arXiv throttled us (HTTP {exc.status})", status=exc.status
                ) from exc
            raise TransientError(f"arXiv answered HTTP {exc.status}", exc.status) from exc
        except NotAFeedError as exc:
            raise RateLimitedError(str(exc), status=200) from exc
        except requests.Timeout as exc:
            raise TransientError("arXiv did not answer in time") from exc
        except requests.RequestException as exc:
            raise TransientError(f"arXiv could not be reached: {type(exc).__name__}") from exc
        return found


def _paper_from(result: arxiv.Result) -> Paper | None:
    m = _ENTRY_ID.search(result.entry_id or "")
    if m is None or "/api/errors" in result.entry_id:
        return None
    return Paper(
        arxiv_id=m["id"],
        version=int(m["version"]),
        title=" ".join(result.title.split()),
        authors=tuple(" ".join(a.name.split()) for a in result.authors),
        abstract=" ".join(result.summary.split()),
        primary_category=result.primary_category or "",
        published=result.published,
        updated=result.updated,
        comment=" ".join(result.comment.split()) if result.comment else None,
    )
