"""The bot's own words: help, the hourly notice and the stop/start confirmations (pure).

A request of one of these kinds keeps only its kind in the queue; its text is written here
when it is posted (a request queued by an older version keeps the text it was given then).
"""

from __future__ import annotations

from bot.models import Request, Status

MESSAGE_KINDS = ("help", "notice", "confirm")


def mention_for(status: Status) -> str:
    """How the person a status is from is addressed: ``@user@domain`` (or ``@user``)."""
    return f"@{status.account.acct}"


def how_summaries_are_made(summarizer: str = "extractive", model: str | None = None) -> str:
    """The disclosure people who reply to bots ask for: what writes the summaries."""
    if summarizer == "llm" and model:
        return (
            f"written by the language model {model} and labelled, else the abstract's own sentences"
        )
    return "the abstract's own sentences, picked by a small statistical model"


EXTRACTIVE = how_summaries_are_made()


def help_text(mention: str, how_made: str = EXTRACTIVE) -> str:
    return (
        f"{mention} I summarise arXiv papers ({how_made}): mention me in a post that links "
        "one, or under it. After my name: help; abstract (all of it); stop (I never answer "
        "you again); start (undo); delete (in reply to my answer)."
    )


def stop_confirmation(mention: str) -> str:
    return (
        f"{mention} Understood: I will not answer you again, not even under a hashtag I watch. "
        "Mention me with \u201cstart\u201d if you change your mind."
    )


def start_confirmation(mention: str) -> str:
    return f"{mention} Welcome back: I will answer your arXiv links again."


def rate_notice(mention: str, per_hour: int) -> str:
    return (
        f"{mention} That is {per_hour} summaries for you this hour, my limit; the rest follow "
        "when the hour allows, in order. Thanks for reading so much!"
    )


def message_for(request: Request, per_hour: int, how_made: str = EXTRACTIVE) -> str:
    """The text a message request is answered with."""
    if request.message is not None:
        return request.message
    mention = mention_for(request.status)
    if request.kind == "help":
        return help_text(mention, how_made)
    if request.kind == "notice":
        return rate_notice(mention, per_hour)
    if request.kind == "confirm":
        return stop_confirmation(mention) if request.stopped else start_confirmation(mention)
    raise ValueError(f"a {request.kind} request is not answered with a message")
