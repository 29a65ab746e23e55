"""The optional LLM summariser against a loopback OpenAI-compatible endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

import pytest

from bot.app import built
from bot.config import Settings
from bot.text.compose import MACHINE_LABEL
from tests.conftest import hashtag, link, post_html
from tests.fakes.http import Response
from tests.fakes.llm import KEY, FakeLlm
from tests.fakes.mastodon import FakeMastodon

TLDR = "The Transformer replaces recurrence with attention and trains much faster."


@pytest.fixture
def llm() -> Iterator[FakeLlm]:
    server = FakeLlm(TLDR)
    yield server
    server.close()


@pytest.fixture
def llm_settings(make_settings: Callable[..., Settings], llm: FakeLlm) -> Settings:
    return make_settings(
        BOT_SUMMARIZER="llm",
        LLM_BASE_URL=llm.base_url,
        LLM_MODEL="tiny-model",
        LLM_API_KEY=KEY,
        LLM_TIMEOUT="0.5",
    )


def answer_posts(mastodon: FakeMastodon, settings: Settings, *ids: str) -> None:
    with built(settings) as bot:
        bot.cycle.start()
        bot.cycle.run_cycle()
        author = mastodon.add_account("alice")
        for arxiv_id in ids:
            body = post_html(link(f"https://arxiv.org/abs/{arxiv_id}"), hashtag("arxiv"))
            mastodon.add_status(author, body, tags=("arxiv",))
        bot.cycle.run_cycle()


def test_the_reply_carries_the_labelled_machine_tldr(
    mastodon: FakeMastodon, llm: FakeLlm, llm_settings: Settings
) -> None:
    answer_posts(mastodon, llm_settings, "1706.03762")
    [reply] = mastodon.posted()
    assert reply.text.endswith(f"\n\n{MACHINE_LABEL}{TLDR}")
    [prompt] = llm.prompts()
    assert prompt.startswith("Title: Attention Is All You Need\n\nAbstract: The dominant")


def test_each_paper_is_asked_once(
    mastodon: FakeMastodon, llm: FakeLlm, llm_settings: Settings
) -> None:
    answer_posts(mastodon, llm_settings, "1706.03762", "1706.03762v7")
    assert len(mastodon.posted()) == 2
    assert len(llm.prompts()) == 1


@pytest.mark.parametrize(
    "trouble",
    [
        "http-500",
        "timeout",
        "not-json",
        "link-in-answer",
        "two-sentences",
        "wrong-key",
    ],
)
def test_any_trouble_falls_back_to_the_extractive_summary(
    mastodon: FakeMastodon,
    llm: FakeLlm,
    make_settings: Callable[..., Settings],
    llm_settings: Settings,
    trouble: str,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    settings = llm_settings
    if trouble == "http-500":
        llm.fail("POST", "/v1/", Response.json({"error": "overloaded"}, 500))
    elif trouble == "timeout":
        llm.fail("POST", "/v1/", None, delay=1.5)
    elif trouble == "not-json":
        llm.fail("POST", "/v1/", Response(200, b"<html>proxy error</html>", "text/html"))
    elif trouble == "link-in-answer":
        llm.answer = "The Transformer, see https://example.org, replaces recurrence with attention."
    elif trouble == "two-sentences":
        llm.answer = "The Transformer replaces recurrence. It is faster to train than before."
    else:
        settings = make_settings(
            BOT_SUMMARIZER="llm", LLM_BASE_URL=llm.base_url, LLM_MODEL="m", LLM_API_KEY="wrong-key"
        )
    answer_posts(mastodon, settings, "1706.03762")
    [reply] = mastodon.posted()
    assert MACHINE_LABEL not in reply.text
    assert "We propose a new simple network architecture, the Transformer" in reply.text
    events = {e["event"] for e in captured_logs}
    assert events & {"llm_failed", "llm_tldr_rejected"}
    assert KEY not in repr(captured_logs)


def test_llm_settings_are_required_together(make_settings: Callable[..., Settings]) -> None:
    from bot.config import SettingsError

    with pytest.raises(SettingsError, match="LLM_BASE_URL: required when BOT_SUMMARIZER=llm"):
        make_settings(BOT_SUMMARIZER="llm")
