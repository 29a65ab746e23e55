"""What the fake keeps of a status, and the Mastodon API's JSON for it (``entities/Status.md``,
``entities/Instance.md`` in Mastodon's documentation)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass
class StatusRecord:
    id: int
    account: dict[str, Any]
    content: str
    visibility: str
    tags: tuple[str, ...]
    text: str = ""
    in_reply_to_id: int | None = None
    spoiler_text: str = ""
    language: str | None = "en"
    reblog_of: int | None = None
    card_url: str | None = None
    idempotency_key: str | None = None
    mentions: tuple[str, ...] = field(default=())
    created: float = field(default_factory=time.monotonic)
    """When it became visible on this server (monotonic clock)."""
    published_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    """Its ``created_at``: when it was published, on its own server."""
    uri: str | None = None
    """For a copy of a post from another server: its ActivityPub id there (else this
    server's own)."""
    url: str | None = None
    """For a copy of a post from another server: its page there."""


def iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def account_json(
    account_id: str, username: str, domain: str | None, *, bot: bool, note: str,
    fields: tuple[tuple[str, str], ...],
) -> dict[str, Any]:  # fmt: skip
    return {
        "id": account_id,
        "username": username,
        "acct": username if domain is None else f"{username}@{domain}",
        "display_name": username.title(),
        "bot": bot,
        "note": note,
        "url": f"https://{domain or 'fake.example'}/@{username}",
        "fields": [{"name": n, "value": v, "verified_at": None} for n, v in fields],
    }


def status_json(
    record: StatusRecord,
    *,
    reblog: StatusRecord | None,
    mention: Callable[[str], dict[str, Any]],
    malformed: bool = False,
    domain: str = "fake.example",
) -> dict[str, Any]:
    if malformed:  # a buggy remote object: no account at all
        return {"id": str(record.id), "content": record.content, "visibility": "public"}
    return {
        "id": str(record.id),
        "created_at": iso(record.published_at),
        "in_reply_to_id": None if record.in_reply_to_id is None else str(record.in_reply_to_id),
        "in_reply_to_account_id": None,
        "sensitive": bool(record.spoiler_text),
        "spoiler_text": record.spoiler_text,
        "visibility": record.visibility,
        "language": record.language,
        "uri": record.uri
        or f"https://{domain}/users/{record.account['username']}/statuses/{record.id}",
        "url": record.url or f"https://{domain}/@{record.account['username']}/{record.id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "content": record.content,
        "reblog": status_json(reblog, reblog=None, mention=mention, domain=domain)
        if reblog
        else None,
        "account": record.account,
        "media_attachments": [],
        "mentions": [mention(a) for a in record.mentions],
        "tags": [{"name": t, "url": f"https://{domain}/tags/{t}"} for t in record.tags],
        "emojis": [],
        "card": {"url": record.card_url, "title": "", "type": "link"} if record.card_url else None,
        "poll": None,
    }


def notification_json(
    notification_id: int, kind: str, account: dict[str, Any], status: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": str(notification_id),
        "type": kind,
        "created_at": "2026-11-26T00:00:00.000Z",
        "account": account,
        "status": status,
    }
