"""Mentions, commands, consent and the loop and flood guards, against the loopback fakes."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import pytest

from bot.app import built
from bot.config import Settings
from bot.deciding.policy import mention_decision, opted_out_by_profile
from bot.models import Account, CycleReport, Status
from bot.text.commands import command_in
from tests.conftest import FakeClock, hashtag, link, post_html
from tests.fakes.mastodon import FakeMastodon, StatusRecord

SettingsFactory = Callable[..., Settings]
ABS = "https://arxiv.org/abs/1706.03762"


class Bot:
    """Runs real cycles; each call builds the bot anew from settings, like a restart, on one
    clock the test moves."""

    def __init__(self, make_settings: SettingsFactory, **overrides: str) -> None:
        self.settings = make_settings(**overrides)
        self.clock = FakeClock()

    def cycle(self) -> CycleReport:
        with built(self.settings, clock=self.clock) as bot:
            return bot.cycle.run_cycle()


@pytest.fixture
def bot(make_settings: SettingsFactory, mastodon: FakeMastodon) -> Bot:
    running = Bot(make_settings, BOT_MAX_REPLIES_PER_THREAD="3", BOT_RATE_PER_ACCOUNT="3")
    running.cycle()  # first start: notes where the timeline and the notifications are
    return running


def replies(mastodon: FakeMastodon, to: int) -> list[StatusRecord]:
    return mastodon.replies_to(to)


def test_a_mention_with_a_paper_is_answered_under_it(mastodon: FakeMastodon, bot: Bot) -> None:
    alice = mastodon.add_account("alice", domain="uni.example")
    mention = mastodon.add_mention(
        alice, f"what is {link(ABS)}?", spoiler_text="ml", visibility="private"
    )
    bot.cycle()
    [reply] = replies(mastodon, mention)
    assert reply.text.startswith("@alice@uni.example 📄 Attention Is All You Need")
    assert reply.mentions == ("alice@uni.example",)
    assert reply.visibility == "private"
    assert reply.spoiler_text == "ml"


def test_a_mention_under_someone_elses_post_answers_that_posts_papers(
    mastodon: FakeMastodon, bot: Bot
) -> None:
    carol = mastodon.add_account("carol")
    paper_post = mastodon.add_status(
        carol, post_html("Nice:", link("https://arxiv.org/pdf/hep-th/9711200v2"))
    )
    dave = mastodon.add_account("dave")
    mention = mastodon.add_mention(dave, "summary please", in_reply_to_id=paper_post)
    bot.cycle()
    assert replies(mastodon, paper_post) == [], "the answer goes under the mention"
    [reply] = replies(mastodon, mention)
    assert reply.text.startswith("@dave 📄 The Large N Limit")
    assert reply.mentions == ("dave",), "carol is not notified"


def test_a_filtered_direct_message_is_read_and_answered_directly(
    mastodon: FakeMastodon, bot: Bot
) -> None:
    stranger = mastodon.add_account("stranger", domain="far.example")
    dm = mastodon.add_mention(stranger, link(ABS), visibility="direct", filtered=True)
    bot.cycle()
    [reply] = replies(mastodon, dm)
    assert reply.visibility == "direct"
    assert reply.mentions == ("stranger@far.example",), "or they would never see it"
    asked = [r for r in mastodon.requests if r.path == "/api/v1/notifications"]
    assert all(r.query["include_filtered"] == ["true"] for r in asked)
    assert all(r.query["types[]"] == ["mention"] for r in asked)


def test_a_mention_without_a_paper_gets_help_once_a_day(mastodon: FakeMastodon, bot: Bot) -> None:
    erin = mastodon.add_account("erin")
    first = mastodon.add_mention(erin, "hello there")
    bot.cycle()
    second = mastodon.add_mention(erin, "anyone home?")
    bot.cycle()
    [help_reply] = replies(mastodon, first)
    assert help_reply.text.startswith("@erin I summarise arXiv papers")
    assert "(the abstract's own sentences, picked by a small statistical model)" in help_reply.text
    assert replies(mastodon, second) == []
    assert len(help_reply.text) <= 300


def test_the_help_text_names_the_language_model_that_writes_the_summaries(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    llm = Bot(
        make_settings,
        BOT_SUMMARIZER="llm",
        LLM_BASE_URL="http://127.0.0.1:9/v1",  # never asked: a help text needs no summary
        LLM_MODEL="tiny-tldr-1b",
    )
    llm.cycle()
    first = mastodon.add_mention(mastodon.add_account("erin"), "hello there")
    llm.cycle()
    [help_reply] = replies(mastodon, first)
    assert "written by the language model tiny-tldr-1b and labelled" in help_reply.text
    assert help_reply.language == "en"


@pytest.mark.parametrize("word", ["help", "HELP", "Help!"])
def test_help_command(mastodon: FakeMastodon, bot: Bot, word: str) -> None:
    frank = mastodon.add_account("frank")
    mention = mastodon.add_mention(frank, f"{word} {link(ABS)}")
    bot.cycle()
    [reply] = replies(mastodon, mention)
    assert reply.text.startswith("@frank I summarise arXiv papers")
    assert "Attention Is All You Need" not in reply.text, "help, not the paper"
    for command in ("help;", "abstract (", "stop (", "start (", "delete ("):
        assert command in reply.text


def test_abstract_command_gives_the_whole_abstract(mastodon: FakeMastodon, bot: Bot) -> None:
    gina = mastodon.add_account("gina")
    mention = mastodon.add_mention(gina, f"abstract {link(ABS)}")
    bot.cycle()
    [first] = replies(mastodon, mention)
    chain = [first]
    while replies(mastodon, chain[-1].id):
        chain.append(replies(mastodon, chain[-1].id)[0])
    assert [p.text.split(" ", 1)[0] for p in chain[1:]] == ["(1/2)", "(2/2)"]


def test_stop_is_confirmed_once_survives_restarts_and_start_undoes_it(
    mastodon: FakeMastodon, make_settings: SettingsFactory, bot: Bot
) -> None:
    hank = mastodon.add_account("hank")
    stop = mastodon.add_mention(hank, "STOP")
    bot.cycle()
    [confirmation] = replies(mastodon, stop)
    assert "will not answer you again" in confirmation.text
    again = mastodon.add_mention(hank, "stop")
    tagged = mastodon.add_status(hank, post_html(link(ABS), hashtag("arxiv")), tags=("arxiv",))
    asked = mastodon.add_mention(hank, link(ABS))
    Bot(make_settings).cycle()  # a restart
    assert replies(mastodon, again) == replies(mastodon, tagged) == replies(mastodon, asked) == []
    start = mastodon.add_mention(hank, "start")
    bot.cycle()
    assert "Welcome back" in replies(mastodon, start)[0].text
    later = mastodon.add_status(hank, post_html(link(ABS), hashtag("arxiv")), tags=("arxiv",))
    bot.cycle()
    assert len(replies(mastodon, later)) == 1


def test_delete_by_the_people_the_reply_was_for(mastodon: FakeMastodon, bot: Bot) -> None:
    author = mastodon.add_account("ivy")
    asker = mastodon.add_account("jack")
    stranger = mastodon.add_account("kim")
    post = mastodon.add_status(author, post_html(link(ABS)))
    ask = mastodon.add_mention(asker, "this one", in_reply_to_id=post)
    bot.cycle()
    [answer] = replies(mastodon, ask)
    mastodon.add_mention(stranger, "delete", in_reply_to_id=answer.id)
    bot.cycle()
    assert mastodon.deleted == [], "a stranger may not"
    mastodon.add_mention(author, "delete", in_reply_to_id=answer.id)
    bot.cycle()
    assert mastodon.deleted == [answer.id], "the author of the post it was about may"

    own = mastodon.add_mention(asker, link("https://arxiv.org/abs/hep-th/9711200"))
    bot.cycle()
    [second] = replies(mastodon, own)
    mastodon.add_mention(asker, "delete", in_reply_to_id=second.id)
    bot.cycle()
    assert mastodon.deleted == [answer.id, second.id], "the person it answered may"


def test_profile_opt_outs_hold_under_hashtags_but_a_mention_is_a_request(
    mastodon: FakeMastodon, bot: Bot
) -> None:
    shy = mastodon.add_account(
        "shy",
        note='<p>Physicist. <a href="https://fake.example/tags/nobot" class="mention hashtag" rel="tag">#<span>NoBot</span></a></p>',
    )
    fields = mastodon.add_account("fields", fields=(("Bots", "#noai please"),))
    tagged = [
        mastodon.add_status(who, post_html(link(ABS), hashtag("arxiv")), tags=("arxiv",))
        for who in (shy, fields)
    ]
    asked = mastodon.add_mention(shy, link(ABS))
    bot.cycle()
    assert [replies(mastodon, t) for t in tagged] == [[], []]
    assert len(replies(mastodon, asked)) == 1


def test_followers_policy_answers_only_followers_under_hashtags(
    mastodon: FakeMastodon, make_settings: SettingsFactory
) -> None:
    bot = Bot(make_settings, BOT_HASHTAG_POLICY="followers")
    bot.cycle()
    fan, passerby = mastodon.add_account("fan"), mastodon.add_account("passerby")
    mastodon.followers.add(fan["id"])
    posts = [
        mastodon.add_status(who, post_html(link(ABS), hashtag("arxiv")), tags=("arxiv",))
        for who in (fan, passerby)
    ]
    bot.cycle()
    assert [len(replies(mastodon, p)) for p in posts] == [1, 0]


def test_unreadable_followers_mean_no_answers_under_hashtags_not_a_crash(
    mastodon: FakeMastodon,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    bot = Bot(make_settings, BOT_HASHTAG_POLICY="followers")
    bot.cycle()
    fan = mastodon.add_account("fan")
    mastodon.followers.add(fan["id"])
    post = mastodon.add_status(fan, post_html(link(ABS), hashtag("arxiv")), tags=("arxiv",))
    mastodon.relationships_forbidden = True
    report = bot.cycle()
    assert report.errors == []
    assert replies(mastodon, post) == [], "not knowing who follows, it answers nobody"
    assert any(e["event"] == "followers_unreadable" for e in captured_logs)


def test_a_thank_you_under_the_bots_answer_gets_no_further_reply(
    mastodon: FakeMastodon, bot: Bot
) -> None:
    pia = mastodon.add_account("pia")
    ask = mastodon.add_mention(pia, link(ABS))
    bot.cycle()
    [answer] = replies(mastodon, ask)
    thanks = mastodon.add_mention(pia, "thanks, great summary!", in_reply_to_id=answer.id)
    bot.cycle()
    assert replies(mastodon, thanks) == []
    assert len(mastodon.posted()) == 1


def test_in_a_conversation_only_new_requests_are_answered(
    mastodon: FakeMastodon, bot: Bot, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    """question → answer → a friend's reply to the question → thanks under the answer → a
    reply to the friend: clients copy every handle, so each reply "mentions" the bot."""
    carol = mastodon.add_account("carol")
    paper = mastodon.add_status(carol, post_html("Nice:", link(ABS)))
    alice, bob = mastodon.add_account("alice"), mastodon.add_account("bob")
    question = mastodon.add_mention(alice, "summary please", in_reply_to_id=paper, also=(carol,))
    bot.cycle()
    [answer] = replies(mastodon, question)
    friend = mastodon.add_mention(
        bob, "oh nice, I read this last week", in_reply_to_id=question, also=(alice,)
    )
    thanks = mastodon.add_mention(alice, "thanks!", in_reply_to_id=answer.id)
    to_friend = mastodon.add_mention(
        alice, "what did you think of it?", in_reply_to_id=friend, also=(bob,)
    )
    bot.cycle()
    assert len(mastodon.posted()) == 1, "nobody asked again"
    reasons = {
        e["status_id"]: e["reason"] for e in captured_logs if e["event"] == "mention_skipped"
    }
    assert reasons == {
        str(friend): "conversation_reply",
        str(thanks): "reply_to_my_own_post",
        str(to_friend): "conversation_reply",
    }


def test_in_a_conversation_a_command_or_a_paper_of_its_own_is_a_request(
    mastodon: FakeMastodon, bot: Bot
) -> None:
    alice, bob = mastodon.add_account("alice"), mastodon.add_account("bob")
    question = mastodon.add_mention(alice, f"what is {link(ABS)}?")
    bot.cycle()
    own_paper = mastodon.add_mention(
        bob,
        f"see also {link('https://arxiv.org/abs/hep-th/9711200')}",
        in_reply_to_id=question,
        also=(alice,),
    )
    command = mastodon.add_mention(bob, "help", in_reply_to_id=question, also=(alice,))
    bot.cycle()
    [paper_reply] = replies(mastodon, own_paper)
    assert "The Large N Limit" in paper_reply.text
    [help_reply] = replies(mastodon, command)
    assert help_reply.text.startswith("@bob I summarise arXiv papers")


def test_a_mention_under_a_post_the_bot_may_not_read_is_skipped_not_a_crash(
    mastodon: FakeMastodon, bot: Bot, captured_logs: list[MutableMapping[str, Any]]
) -> None:
    carol = mastodon.add_account("carol")
    hidden = mastodon.add_status(carol, post_html(link(ABS)), visibility="private")
    mastodon.forbidden.add(hidden)
    dave = mastodon.add_account("dave")
    blocked = mastodon.add_mention(dave, "summary?", in_reply_to_id=hidden)
    fine = mastodon.add_mention(dave, link("https://arxiv.org/abs/hep-th/9711200"))
    report = bot.cycle()
    assert report.errors == []
    assert replies(mastodon, blocked) == []
    assert len(replies(mastodon, fine)) == 1, "the rest of the page is answered"
    [skipped] = [e for e in captured_logs if e["event"] == "mention_skipped"]
    assert (skipped["status_id"], skipped["reason"]) == (str(blocked), "parent_unreadable_403")
    again = bot.cycle()
    assert again.seen == 0, "the cursor moved past it"


def test_two_bots_mentioning_each_other_make_no_exchange(mastodon: FakeMastodon, bot: Bot) -> None:
    other = mastodon.add_account("otherbot", bot=True)
    ping = mastodon.add_mention(other, f"here is {link(ABS)}")
    bot.cycle()
    bot.cycle()
    assert replies(mastodon, ping) == []
    assert mastodon.posted() == []


def test_a_thread_full_of_papers_gets_at_most_the_cap(mastodon: FakeMastodon, bot: Bot) -> None:
    ids = ["1706.03762", "hep-th/9711200", "2504.18412", "2101.00042", "1903.01234", "2104.12255"]
    parent = None
    for i, arxiv_id in enumerate(ids + ids[:4]):  # 10 links, some repeated
        who = mastodon.add_account(f"poster{i}")
        body = post_html(link(f"https://arxiv.org/abs/{arxiv_id}"), hashtag("arxiv"))
        parent = mastodon.add_status(who, body, tags=("arxiv",), in_reply_to_id=parent)
    bot.cycle()
    assert len(mastodon.posted()) == 3


def test_a_paper_already_summarised_in_the_thread_gets_a_link_not_a_repeat(
    mastodon: FakeMastodon, bot: Bot
) -> None:
    first = mastodon.add_status(
        mastodon.add_account("lea"), post_html(link(ABS), hashtag("arxiv")), tags=("arxiv",)
    )
    bot.cycle()
    [summary] = replies(mastodon, first)
    again = mastodon.add_status(
        mastodon.add_account("max"), post_html(link(ABS + "v7"), hashtag("arxiv")),
        tags=("arxiv",), in_reply_to_id=summary.id,
    )  # fmt: skip
    bot.cycle()
    [pointer] = replies(mastodon, again)
    assert "summarised above" in pointer.text
    assert f"https://fake.example/@arxivbot/{summary.id}" in pointer.text
    assert "The dominant sequence" not in pointer.text


def test_an_account_past_its_hourly_rate_gets_one_notice(mastodon: FakeMastodon, bot: Bot) -> None:
    nina = mastodon.add_account("nina")
    mentions = [
        mastodon.add_mention(nina, link(f"https://arxiv.org/abs/{i}"))
        for i in ("1706.03762", "hep-th/9711200", "2504.18412", "2101.00042", "1903.01234")
    ]
    bot.cycle()
    answered = [len(replies(mastodon, m)) for m in mentions]
    assert answered == [1, 1, 1, 1, 0]
    notice = replies(mastodon, mentions[3])[0]
    assert "my limit" in notice.text
    bot.cycle()
    assert [len(replies(mastodon, m)) for m in mentions] == [1, 1, 1, 1, 0], "still this hour"
    bot.clock.advance(3660)  # an hour passes
    bot.cycle()
    later = [replies(mastodon, m) for m in mentions[3:]]
    assert [len(r) for r in later] == [2, 1], "they waited; nothing was lost"
    assert "2101.00042" in later[0][1].text
    assert len(mastodon.posted()) == 6, "one notice in all"


def test_hashtag_posts_past_the_cap_wait_and_past_the_backlog_are_dropped(
    mastodon: FakeMastodon,
    make_settings: SettingsFactory,
    captured_logs: list[MutableMapping[str, Any]],
) -> None:
    bot = Bot(make_settings, BOT_RATE_PER_ACCOUNT="2", BOT_BACKLOG_PER_ACCOUNT="1")
    bot.cycle()
    olga = mastodon.add_account("olga")

    def post(arxiv_id: str) -> int:
        body = post_html(link(f"https://arxiv.org/abs/{arxiv_id}"), hashtag("arxiv"))
        return mastodon.add_status(olga, body, tags=("arxiv",))

    posts = [post(i) for i in ("1706.03762", "hep-th/9711200", "2504.18412", "2101.00042")]
    report = bot.cycle()
    assert [len(replies(mastodon, p)) for p in posts] == [1, 1, 0, 0]
    assert report.waiting == 1, "the third waits for the hour"
    [full] = [e for e in captured_logs if e.get("reason") == "backlog_full"]
    assert full["status_id"] == str(posts[3])
    assert report.dropped_reasons == {"backlog_full": 1}, "dropped, and counted"
    later = post("1903.01234")
    bot.cycle()
    assert [e["status_id"] for e in captured_logs if e.get("reason") == "backlog_full"] == [
        str(posts[3]),
        str(later),
    ], "the bound holds for what comes later in the hour"
    bot.clock.advance(3660)  # an hour passes
    bot.cycle()
    assert [len(replies(mastodon, p)) for p in posts] == [1, 1, 1, 0]


def test_the_watched_hashtags_never_appear_in_the_bots_posts(
    mastodon: FakeMastodon, bot: Bot
) -> None:
    # 2504.18412's abstract says "#physics"; watch that tag too.
    watcher = Bot.__new__(Bot)
    watcher.settings = bot.settings.model_copy(update={"bot_hashtags": ("arxiv", "physics")})
    watcher.clock = bot.clock
    watcher.cycle()
    post = mastodon.add_status(
        mastodon.add_account("olga"),
        post_html(link("https://arxiv.org/abs/2504.18412"), hashtag("arxiv")),
        tags=("arxiv",),
    )
    watcher.cycle()
    watcher.cycle()
    assert len(replies(mastodon, post)) == 1
    assert all(p.tags == () for p in mastodon.posted())


# --- the pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@arxivbot help", "help"),
        ("@arxivbot@fake.example ABSTRACT please", "abstract"),
        ("@someone @arxivbot stop", "stop"),
        ("@arxivbot, delete", "delete"),
        ("@arxivbot what is this?", None),
        ("help @arxivbot", None),
        ("@alice @bob help", "help"),
        ("", None),
    ],
)
def test_commands(text: str, expected: str | None) -> None:
    assert command_in(text, "arxivbot") == expected


def account(note: str = "", fields: tuple[str, ...] = (), bot: bool = False) -> Account:
    return Account("9", "x", bot, note, fields)


@pytest.mark.parametrize(
    ("note", "fields", "expected"),
    [
        ('<p><a href="/tags/nobot" class="mention hashtag">#<span>nobot</span></a></p>', (), True),
        ("<p>I say #NoAI</p>", (), True),
        ("", ("Policy", "#nollm"), True),
        ("<p>#nobotany is my field</p>", (), False),
        ("<p>no bots please</p>", (), False),
    ],
)
def test_profile_opt_out(note: str, fields: tuple[str, ...], expected: bool) -> None:
    assert opted_out_by_profile(account(note, fields)) is expected


def test_mention_decisions() -> None:
    asker = Status("5", None, account(), "", "public", in_reply_to_id="4")
    assert mention_decision(asker, "1", (), None, stopped=False).action == "answer_parent"
    assert mention_decision(asker, "1", (), "stop", stopped=True).action == "ignore"
    assert mention_decision(asker, "1", (), "start", stopped=True).action == "start"
    assert mention_decision(asker, "1", (), None, stopped=True).reason == "account_said_stop"
    robot = Status("6", None, account(bot=True), "", "public")
    assert mention_decision(robot, "1", (), "help", stopped=False).reason == "bot_account"
