"""The rules of whether and how to answer one status (pure): where the bot decides not to
answer, and why.

Nobody is answered against their will: never the bot itself or another bot, never an account
that said ``stop`` or opted out in its profile (under a hashtag), never a conversation
between people that only copied the bot's handle. Visibility is never widened.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.models import VISIBILITIES, Account, PaperRef, ReplyMode, Status, Visibility
from bot.text.commands import Command, strip_tags


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


# --- consent ------------------------------------------------------------------------------------

HashtagPolicy = Literal["all", "followers"]
OPT_OUT_TAGS = ("nobot", "noai", "nollm")
_OPT_OUT = re.compile(r"#(?:" + "|".join(OPT_OUT_TAGS) + r")\b", re.IGNORECASE)


def opted_out_by_profile(account: Account) -> bool:
    """``#nobot``, ``#noai`` or ``#nollm`` in the bio or a profile field (tags stripped first:
    Mastodon renders ``#nobot`` as ``#<span>nobot</span>`` inside a link)."""
    text = " ".join([account.note, *account.fields])
    return _OPT_OUT.search(strip_tags(text)) is not None


def hashtag_skip_reason(
    status: Status,
    own_account_id: str | None,
    refs: Sequence[PaperRef],
    *,
    stopped: bool,
    policy: HashtagPolicy,
    follows_bot: bool | None,
) -> str | None:
    """Why a post under a watched hashtag must not be answered, or None.

    Nobody asked the bot here, so every opt-out counts.
    """
    reason = skip_reason(status, own_account_id, refs)
    if reason is not None:
        return reason
    if stopped:
        return "account_said_stop"
    if opted_out_by_profile(status.account):
        return "profile_opt_out"
    if policy == "followers" and not follows_bot:
        return "not_a_follower"
    return None


# --- mentions -----------------------------------------------------------------------------------

MentionAction = Literal["answer", "answer_parent", "help", "stop", "start", "delete", "ignore"]


@dataclass(frozen=True, slots=True)
class MentionDecision:
    action: MentionAction
    reason: str = ""
    mode: ReplyMode = "summary"


def mention_decision(
    mention: Status,
    own_account_id: str | None,
    refs: Sequence[PaperRef],
    command: Command | None,
    *,
    stopped: bool,
) -> MentionDecision:
    """What to do with a mention: answer its papers, its parent's papers, or a command."""
    mode: ReplyMode = "abstract" if command == "abstract" else "summary"
    if own_account_id is not None and mention.account.id == own_account_id:
        return MentionDecision("ignore", "own_post")
    if mention.account.bot:
        return MentionDecision("ignore", "bot_account")
    if command == "start":
        return MentionDecision("start" if stopped else "ignore", "" if stopped else "not_stopped")
    if stopped:
        return MentionDecision("ignore", "account_said_stop")
    if command == "stop":
        return MentionDecision("stop")
    if command == "delete":
        if mention.in_reply_to_id is None:
            return MentionDecision("help", "delete_needs_a_reply")
        return MentionDecision("delete")
    if command == "help":
        return MentionDecision("help")
    if refs:
        return MentionDecision("answer", mode=mode)
    if mention.in_reply_to_id is not None:
        return MentionDecision("answer_parent", mode=mode)
    return MentionDecision("help", "no_paper")


def conversation_skip_reason(parent: Status, own_account_id: str | None) -> str | None:
    """Why a mention that only replies to ``parent`` (no paper, no command of its own) is no
    request: clients copy every handle of the post answered, so under one of the bot's posts,
    or under a post that already mentions it, people talk to each other, not to the bot."""
    if own_account_id is None:
        return None
    if parent.account.id == own_account_id:
        return "reply_to_my_own_post"
    if own_account_id in parent.mention_ids:
        return "conversation_reply"
    return None


def may_delete(asker_id: str, reply_asker_id: str, reply_subject_author_id: str | None) -> bool:
    """Only the person a reply answered, or the author of the post it was about, may delete it."""
    return asker_id in (reply_asker_id, reply_subject_author_id)


# --- floods -------------------------------------------------------------------------------------


def thread_room(bot_posts_in_thread: int, cap: int) -> int:
    """How many more posts the bot may add to a conversation."""
    return max(cap - bot_posts_in_thread, 0)


def over_rate(answers_in_last_hour: int, per_hour: int) -> bool:
    return answers_in_last_hour >= per_hour
