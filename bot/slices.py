"""The slice of the settings each room follows, read off the settings model (pure).

``app.py`` hands each room only its slice, so a room says in its own signature which
settings it depends on, and a test builds one without the whole model.
"""

from __future__ import annotations

from bot.config import Settings
from bot.cycle import Upkeep
from bot.deciding.verdicts import Rules
from bot.limits.pauses import Retry
from bot.limits.poll_pace import Pacing
from bot.reading.streams import StreamTimes
from bot.reading.sweeps import Lookback
from bot.replying.posting import Manners
from bot.replying.queue import Patience
from bot.text.messages import how_summaries_are_made


def retry(s: Settings) -> Retry:
    return Retry(s.bot_retry_base_seconds, s.bot_retry_max_seconds)


def pacing(s: Settings) -> Pacing:
    return Pacing(s.bot_poll_interval, s.bot_stream_poll_factor)


def lookback(s: Settings) -> Lookback:
    return Lookback(s.bot_sweep_seconds, s.bot_lookback_hours)


def stream_times(s: Settings) -> StreamTimes:
    return StreamTimes(s.bot_stream_dead_seconds, s.bot_stream_retry_seconds)


def upkeep(s: Settings) -> Upkeep:
    return Upkeep(s.bot_retention_days, s.bot_stream_poll_factor)


def rules(s: Settings) -> Rules:
    return Rules(
        s.bot_hashtag_policy,
        s.bot_rate_per_account,
        s.bot_backlog_per_account,
        s.bot_max_papers_per_post,
    )


def manners(s: Settings) -> Manners:
    return Manners(
        s.bot_reply_visibility,
        s.bot_reply_mode,
        s.bot_summary_max_characters,
        how_summaries_are_made(s.bot_summarizer, s.llm_model),
        s.bot_max_replies_per_thread,
        s.bot_rate_per_account,
        s.bot_posts_per_3h,
        s.bot_post_gap_seconds,
        s.bot_dry_run,
    )


def patience(s: Settings) -> Patience:
    return Patience(s.bot_pending_hours, s.bot_rate_per_account)
