"""Whether and how to answer a status (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from bot.models import VISIBILITIES, PaperRef, Status, Visibility


def reply_visibility(original: Visibility, configured: Visibility) -> Visibility:
    """The narrower of the configured reply visibility and the original's: never wider."""
    return min(original, configured, key=VISIBILITIES.index)


def subject_of(status: Status) -> Status:
    """A boost is answered as the status it boosts."""
    return status.reblog if status.reblog is not None else status


def skip_reason(status: Status, own_account_id: str | None, refs: Sequence[PaperRef]) -> str | None:
    """Why the bot must not answer this (already unwrapped) status, or None to answer it."""
    if own_account_id is not None and status.account.id == own_account_id:
        return "own_post"
    if status.account.bot:
        return "bot_account"
    if not refs:
        return "no_arxiv_link"
    return None


def capped(refs: Sequence[PaperRef], cap: int) -> tuple[tuple[PaperRef, ...], tuple[PaperRef, ...]]:
    """The papers the bot answers for one status, and the ones beyond the cap."""
    return tuple(refs[:cap]), tuple(refs[cap:])


def idempotency_key(status_id: str, position: int, refs: Sequence[PaperRef]) -> str:
    """The same status, post position and papers always give the same key, across restarts."""
    material = "|".join(["arxiv-bot", status_id, str(position), *map(str, refs)])
    return hashlib.sha256(material.encode()).hexdigest()[:40]


def mention_for(status: Status) -> str:
    return f"@{status.account.acct}"
