"""Staying inside the servers' budgets: paged requests per 15 minutes, posts per 3 hours,
how many hashtags one request carries, and when to stretch polls (pure).

Nothing here sleeps: each answers *how much* or *when*, and the scheduler's next cycles simply
skip what is not yet due. So a long wait never blocks the scheduler.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

WINDOW_SECONDS = 15 * 60
PAGED_LIMIT = 300
"""Mastodon: requests carrying min_id/max_id/since_id, per user per 15 minutes."""
BUDGET_SHARE = 0.8
TAGS_PER_REQUEST = 4
"""Genuine Mastodon keeps the first 4 names of the path tag and ``any[]`` (``TagFeed``)."""
PAGE_LIMIT = 40
"""Statuses asked for per timeline or notifications page (Mastodon's maximum)."""
MAX_PAGES_PER_CYCLE = 10
"""Pages one source may read in a cycle, so a flood cannot starve the other sources."""
SWEEP_MAX_PAGES = 20
"""Pages one sweep of recent history may read per timeline: 800 posts, enough for six hours
of a tag with over 100 posts an hour."""


POST_WINDOW_SECONDS = 3 * 3600
"""Mastodon: at most ``BOT_POSTS_PER_3H`` (300 by default) posts per account in 3 hours."""
POST_RESERVE_SHARE = 0.05


def posts_left(posted_in_window: int, per_window: int) -> int:
    """Posts the bot may still make in the rolling window, keeping a small reserve so that
    retries and notices never meet the server's 429."""
    reserve = max(1, math.ceil(per_window * POST_RESERVE_SHARE))
    return max(per_window - reserve - posted_in_window, 0)


def tag_groups(
    hashtags: Sequence[str], per_request: int = TAGS_PER_REQUEST
) -> tuple[tuple[str, ...], ...]:
    """Hashtags in groups that one timeline request can watch (``any[]`` takes the rest)."""
    tags = tuple(hashtags)
    return tuple(tags[i : i + per_request] for i in range(0, len(tags), per_request))


@dataclass(frozen=True, slots=True)
class RequestLimit:
    """A server's published limit on the requests polling makes (``FACTS-fediverse.md``)."""

    software: str
    requests: int
    window_seconds: float
    counts: str
    """Which requests count: ``paged requests`` (Mastodon), ``requests`` (all, per IP)."""

    def window(self) -> str:
        minutes = self.window_seconds / 60
        return f"{minutes:g} min" if minutes >= 1 else f"{self.window_seconds:g} s"


MASTODON_PAGED = RequestLimit("Mastodon", PAGED_LIMIT, WINDOW_SECONDS, "paged requests")
"""Mastodon: requests with min_id/max_id/since_id, per user per 15 minutes."""
MASTODON_ANONYMOUS_PAGED = RequestLimit(
    "Mastodon", PAGED_LIMIT, WINDOW_SECONDS, "anonymous paged requests per IP address"
)
"""Mastodon's limit on paged requests without a token (``config/initializers/rack_attack.rb``,
``throttle_unauthenticated_paging``): what a remote tag timeline is read under."""


def requests_per_cycle(hashtags: int, mentions: bool, per_request: int = TAGS_PER_REQUEST) -> int:
    """Paged requests one quiet cycle makes: one per group of hashtags (4 on Mastodon, 1
    elsewhere), plus one for mentions."""
    return math.ceil(hashtags / per_request) + (1 if mentions else 0)


def sweep_requests_per_window(
    hashtags: int,
    sweep_seconds: float,
    per_request: int = TAGS_PER_REQUEST,
    window: float = WINDOW_SECONDS,
) -> float:
    """Paged requests the sweeps of recent history make per window, at the least (one page
    per timeline and sweep; a busy tag needs more, up to ``SWEEP_MAX_PAGES``)."""
    return window / sweep_seconds * math.ceil(hashtags / per_request)


def paged_requests_per_window(
    interval: float,
    hashtags: int,
    mentions: bool,
    sweep_seconds: float = math.inf,
    per_request: int = TAGS_PER_REQUEST,
    window: float = WINDOW_SECONDS,
) -> float:
    polls = window / interval * requests_per_cycle(hashtags, mentions, per_request)
    return polls + sweep_requests_per_window(hashtags, sweep_seconds, per_request, window)


def smallest_interval(
    hashtags: int,
    mentions: bool,
    share: float = BUDGET_SHARE,
    sweep_seconds: float = math.inf,
    per_request: int = TAGS_PER_REQUEST,
    limit: RequestLimit = MASTODON_PAGED,
) -> float:
    """The shortest poll interval whose requests stay within ``share`` of the limit."""
    window = limit.window_seconds
    sweeps = sweep_requests_per_window(hashtags, sweep_seconds, per_request, window)
    room = limit.requests * share - sweeps
    return window * requests_per_cycle(hashtags, mentions, per_request) / max(room, 1.0)


def budget_warning(
    interval: float,
    hashtags: int,
    mentions: bool,
    sweep_seconds: float = math.inf,
    per_request: int = TAGS_PER_REQUEST,
    limit: RequestLimit | None = MASTODON_PAGED,
    software: str = "mastodon",
) -> str | None:
    """One line for the operator when the configured polling would use over 80 % of the
    server's own limit (Mastodon's, said so, where the server publishes none)."""
    measure = limit or MASTODON_PAGED
    window = measure.window_seconds
    used = paged_requests_per_window(
        interval, hashtags, mentions, sweep_seconds, per_request, window
    )
    if used <= measure.requests * BUDGET_SHARE:
        return None
    smallest = smallest_interval(
        hashtags, mentions, sweep_seconds=sweep_seconds, per_request=per_request, limit=measure
    )
    whose = (
        f"{measure.software}'s {measure.requests} {measure.counts} per {measure.window()}"
        if limit is not None
        else f"Mastodon's {measure.requests} {measure.counts} per {measure.window()} "
        f"({'the server' if software == 'unknown' else software} publishes no limit of its own)"
    )
    return (
        f"BOT_POLL_INTERVAL={interval:g} with {hashtags} hashtag(s)"
        f"{' and mentions' if mentions else ''} makes {used:.0f} {measure.counts} per "
        f"{measure.window()}{' (sweeps included)' if sweep_seconds < math.inf else ''}, over "
        f"{BUDGET_SHARE:.0%} of {whose}; the smallest interval that fits is "
        f"{math.ceil(smallest)} s"
    )


def remote_budget_warnings(
    servers: Sequence[str], interval: float, sweep_seconds: float
) -> dict[str, str]:
    """For each remote server (one entry per tag read there) whose anonymous reads would use
    over 80 % of Mastodon's anonymous paging limit, the line for the operator."""
    warnings = {}
    for server in dict.fromkeys(servers):
        warning = budget_warning(
            interval, servers.count(server), mentions=False, sweep_seconds=sweep_seconds,
            per_request=1, limit=MASTODON_ANONYMOUS_PAGED,
        )  # fmt: skip
        if warning is not None:
            warnings[server] = warning
    return warnings


@dataclass(frozen=True, slots=True)
class RateLimit:
    """What the server's last ``X-RateLimit-*`` headers said."""

    limit: int
    remaining: int
    reset_in: float


def stretched_gap(rate: RateLimit | None, per_cycle: int, interval: float) -> float:
    """The gap to keep between polls so the remaining budget lasts until it resets.

    Above a fifth of the limit, polls run as configured. Below it, the requests left (less a
    reserve for posting) are spread over the time until the reset, never closer than the
    configured interval. No headers (a server or fake without them): as configured.
    """
    if rate is None or rate.limit <= 0 or rate.remaining >= rate.limit / 5:
        return interval
    reserve = max(rate.limit // 20, 1)
    polls_left = (rate.remaining - reserve) // max(per_cycle, 1)
    if polls_left <= 0:
        return max(interval, rate.reset_in)
    return max(interval, rate.reset_in / polls_left)
