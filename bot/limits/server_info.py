"""What this server told the bot: its software, its post limits, and what it refused.

Read at start and every ``LIMITS_REFRESH_SECONDS`` (a few minutes after a failure, not every
cycle). Until the server has answered, the bot stays on the safe side: strict counting and
one request per hashtag. A post refused as too long makes the server strict for good (kept
in the state file): its counting is not Mastodon's, whatever it says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import structlog

from bot.clock import Clock
from bot.errors import RejectedError, TransientError
from bot.limits.server_kinds import Server
from bot.models import ServerLimits
from bot.state.meta import STRICT_COUNTING, Meta

LIMITS_REFRESH_SECONDS = 6 * 3600
LIMITS_RETRY_SECONDS = 300
log = structlog.get_logger()


class ServerInfo:
    def __init__(
        self, read: Callable[[], tuple[Server, ServerLimits]], meta: Meta, clock: Clock
    ) -> None:
        """``read`` asks the server (the Mastodon adapter's ``server``)."""
        self._read = read
        self._meta = meta
        self._clock = clock
        self.server = Server("unknown")
        self.limits = ServerLimits(counting="strict")
        self._read_at: float | None = None

    def refresh_if_due(self) -> None:
        now = self._clock.monotonic()
        if self._read_at is None or now - self._read_at > LIMITS_REFRESH_SECONDS:
            self.refresh()

    def refresh(self) -> None:
        try:
            server, limits = self._read()
        except (TransientError, RejectedError) as exc:
            log.warning(
                "server_limits_unavailable",
                error=exc,
                using=self.limits.max_characters,
                counting=self.limits.counting,
            )
            # Try again in a few minutes, not every cycle.
            now = self._clock.monotonic()
            self._read_at = now - LIMITS_REFRESH_SECONDS + LIMITS_RETRY_SECONDS
            return
        self._read_at = self._clock.monotonic()
        if self._meta.get(STRICT_COUNTING) == "1":  # it refused a post we counted its way
            limits = replace(limits, counting="strict")
        if server != self.server:
            log.info(
                "server_identified",
                software=server.software,
                version=server.version,
                adapted=server.adaptations(),
            )
        self.server, self.limits = server, limits
        log.info(
            "server_limits",
            max_characters=limits.max_characters,
            characters_reserved_per_url=limits.characters_reserved_per_url,
            counting=limits.counting,
        )

    def count_strictly(self, refusal: RejectedError) -> bool:
        """The server refused a post as too long: count its way no longer, for good. False
        when the count was strict already (the refusal is then the post's own)."""
        if self.limits.counting == "strict":
            return False
        self.limits = replace(self.limits, counting="strict")
        self._meta.set(STRICT_COUNTING, "1")
        log.warning("counting_strictly", server=str(self.server), error=refusal)
        return True
