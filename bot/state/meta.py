"""Named values kept between runs, every key named here and nowhere else.

Standard library only at import time: the healthcheck reads the key names without loading the
rest of the bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.state.db import Database

SCHEMA_VERSION = "schema_version"
LAST_CYCLE = "last_good_cycle"
"""When the loop last completed a cycle, whatever the servers answered (the name is from when
only error-free cycles counted; kept so older state files still read)."""
HEALTH_MAX_AGE = "health_max_age_seconds"
"""How old the last cycle may get before the healthcheck fails (the bot's own settings)."""
STREAMS = "streams"
"""Each live stream's state after the last cycle (JSON): shown by the healthcheck, not judged."""
ARXIV_LAST_REQUEST = "arxiv_last_request"
"""Wall-clock time of the last arXiv request, so a restart keeps the gap."""
POLL_RESUME = "poll_resume_at"
"""When polling may resume after it was stretched to save the request budget."""
POSTS_SHORT = "post_budget_short"
""""1" while the queue needs more posts than the 3-hour window allows."""
STRICT_COUNTING = "strict_counting"
""""1" once the server refused a post counted Mastodon's way."""
LAST_SWEEP = "last_sweep_at"
"""When recent history was last swept (for ``run --once`` from cron)."""


def pause_key(service: str) -> str:
    """When ``service`` (``mastodon``, ``arxiv``) may be asked again, and after how many failures."""
    return f"pause:{service}"


def sweep_progress_key(source: str) -> str:
    """Where an unfinished sweep of ``source`` carries on."""
    return f"sweep_progress:{source}"


class Meta:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        row = self._db.one("SELECT value FROM meta WHERE key=?", (key,))
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        self.set_many({key: value})

    def set_many(self, values: Mapping[str, str]) -> None:
        with self._db.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(values.items())
            )

    def delete(self, key: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM meta WHERE key=?", (key,))
