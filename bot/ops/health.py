"""``arxiv-bot healthcheck``: is the running bot's loop alive? Cheap on purpose.

A container runs this once a minute, so it imports only the standard library and
python-dotenv, opens the state file read-only, and reads two values the bot itself writes
after every cycle: when that was, and how old it may get (which the bot derives from its own
settings). Only where the state file is must be read from the settings here: ``BOT_DATA_DIR``
and ``BOT_DRY_RUN``, from the environment or ``./.env`` as pydantic-settings reads them (a
test holds the two readings together).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from bot.state.meta import HEALTH_MAX_AGE as MAX_AGE
from bot.state.meta import LAST_CYCLE, STREAMS
from bot.state.paths import DEFAULT_DATA_DIR, state_file

if TYPE_CHECKING:
    from bot.models import StreamView

DEFAULT_MAX_AGE = 180.0
"""For a state file written before the bot recorded its own limit: three 60-second polls."""
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def state_file_from(environ: Mapping[str, str], env_file: Path | None) -> Path:
    """Where the state is, by the same rules as the settings: the environment first, then the
    ``.env`` file, names in any case."""
    values: dict[str, str | None] = {}
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values

        values.update({k.lower(): v for k, v in dotenv_values(env_file).items()})
    values.update({k.lower(): v for k, v in environ.items()})
    data_dir = values.get("bot_data_dir")
    dry_run = (values.get("bot_dry_run") or "false").lower()
    if dry_run not in _TRUE | _FALSE:
        raise ValueError(f"BOT_DRY_RUN: not a boolean: {dry_run!r}")
    return state_file(DEFAULT_DATA_DIR if data_dir is None else Path(data_dir), dry_run in _TRUE)


def heartbeat(at: datetime, max_age: float, streams: Sequence[StreamView]) -> dict[str, str]:
    """What the running bot writes after every cycle, for this check to read: the loop is
    alive (whatever the world answered), how old that may get, and each stream's state."""
    views = [
        {
            "stream": v.name,
            "connected": v.connected,
            "last_event_at": v.last_event_at.isoformat() if v.last_event_at else None,
            "refused": v.refused,
        }
        for v in streams
    ]
    return {LAST_CYCLE: at.isoformat(), MAX_AGE: repr(max_age), STREAMS: json.dumps(views)}


def verdict(last_cycle: str | None, max_age: str | None, now: datetime) -> tuple[bool, str]:
    """Healthy when the loop's last cycle is no older than the bot said it may be. A cycle
    that waited out a 429 or an arXiv outage counts: the bot is fine, the world is not."""
    if last_cycle is None:
        return False, "no cycle has completed yet"
    age = (now - datetime.fromisoformat(last_cycle)).total_seconds()
    allowed = float(max_age) if max_age is not None else DEFAULT_MAX_AGE
    if age > allowed:
        return False, f"last cycle {age:.0f} s ago (allowed {allowed:.0f} s): the loop is stuck"
    return True, f"last cycle {age:.0f} s ago"


def check(path: Path, now: datetime | None = None) -> tuple[bool, str]:
    """Read the state file without writing to it (no migration, no lock) and judge it."""
    if not path.exists():
        return False, f"no state at {path}"
    try:
        db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)
        try:
            rows = dict(
                db.execute(
                    "SELECT key, value FROM meta WHERE key IN (?, ?, ?)",
                    (LAST_CYCLE, MAX_AGE, STREAMS),
                ).fetchall()
            )
        finally:
            db.close()
    except sqlite3.Error as exc:
        return False, f"cannot read the state at {path}: {exc}"
    now = now or datetime.now(UTC)
    ok, why = verdict(rows.get(LAST_CYCLE), rows.get(MAX_AGE), now)
    return ok, why + streams_line(rows.get(STREAMS), now)


def streams_line(stored: str | None, now: datetime) -> str:
    """``; streams: user connected (last event 3 s ago), …`` or nothing without streams."""
    try:
        streams = json.loads(stored) if stored else []
    except ValueError:
        return ""
    parts = []
    for stream in streams if isinstance(streams, list) else []:
        state = "connected" if stream.get("connected") else "down"
        if stream.get("refused"):
            state = f"refused ({stream['refused']})"
        at = stream.get("last_event_at")
        if at:
            age = (now - datetime.fromisoformat(at)).total_seconds()
            state += f" (last event {age:.0f} s ago)"
        parts.append(f"{stream.get('stream')} {state}")
    return f"; streams: {', '.join(parts)}" if parts else ""


def main() -> int:
    try:
        path = state_file_from(os.environ, Path(".env"))
    except ValueError as exc:
        print(f"unhealthy: {exc}")
        return 1
    ok, why = check(path)
    print(("healthy: " if ok else "unhealthy: ") + why)
    return 0 if ok else 1
