from __future__ import annotations

import itertools

import pytest

from bot.deciding.policy import capped, idempotency_key, reply_visibility, skip_reason, subject_of
from bot.models import VISIBILITIES, Account, PaperRef, Status, Visibility

# original visibility -> configured reply visibility -> what the reply gets
VISIBILITY_TABLE: dict[Visibility, dict[Visibility, Visibility]] = {
    "public": {
        "public": "public",
        "unlisted": "unlisted",
        "private": "private",
        "direct": "direct",
    },
    "unlisted": {
        "public": "unlisted",
        "unlisted": "unlisted",
        "private": "private",
        "direct": "direct",
    },
    "private": {
        "public": "private",
        "unlisted": "private",
        "private": "private",
        "direct": "direct",
    },
    "direct": {"public": "direct", "unlisted": "direct", "private": "direct", "direct": "direct"},
}


@pytest.mark.parametrize(
    ("original", "configured"), list(itertools.product(VISIBILITIES, VISIBILITIES))
)
def test_visibility_never_widens(original: Visibility, configured: Visibility) -> None:
    got = reply_visibility(original, configured)
    assert got == VISIBILITY_TABLE[original][configured]
    assert VISIBILITIES.index(got) <= VISIBILITIES.index(original)


def status(account_id: str = "7", bot: bool = False, reblog: Status | None = None) -> Status:
    return Status(
        id="100", url=None, account=Account(account_id, "someone", bot), content="",
        visibility="public", reblog=reblog,
    )  # fmt: skip


REF = (PaperRef("1706.03762"),)


@pytest.mark.parametrize(
    ("subject", "refs", "reason"),
    [
        (status(), REF, None),
        (status(account_id="1"), REF, "own_post"),
        (status(bot=True), REF, "bot_account"),
        (status(), (), "no_arxiv_link"),
    ],
)
def test_skip_reasons(subject: Status, refs: tuple[PaperRef, ...], reason: str | None) -> None:
    assert skip_reason(subject, "1", refs) == reason


def test_a_boost_is_answered_as_its_original() -> None:
    original = status(account_id="9")
    boost = status(account_id="8", reblog=original)
    assert subject_of(boost) is original
    assert subject_of(original) is original


@pytest.mark.parametrize(
    ("linked", "cap", "kept", "ignored"),
    [
        (
            ("2504.18410", "1706.03762", "hep-th/9711200", "2104.12255", "1605.08386"),
            3,
            ("2504.18410", "1706.03762", "hep-th/9711200"),
            ("2104.12255", "1605.08386"),
        ),
        (("1706.03762",), 3, ("1706.03762",), ()),
        (("1706.03762", "2504.18410"), 2, ("1706.03762", "2504.18410"), ()),
        (("1706.03762", "2504.18410"), 1, ("1706.03762",), ("2504.18410",)),
    ],
)
def test_the_cap_keeps_the_papers_in_the_order_the_post_names_them(
    linked: tuple[str, ...], cap: int, kept: tuple[str, ...], ignored: tuple[str, ...]
) -> None:
    first, rest = capped(tuple(PaperRef(i) for i in linked), cap)
    assert [r.arxiv_id for r in first] == list(kept)
    assert [r.arxiv_id for r in rest] == list(ignored)


def test_idempotency_keys_are_stable_and_distinct() -> None:
    key = idempotency_key("100", 0, REF)
    assert key == idempotency_key("100", 0, REF)
    others = {
        idempotency_key("101", 0, REF),
        idempotency_key("100", 1, REF),
        idempotency_key("100", 0, (PaperRef("1706.03762", 2),)),
    }
    assert key not in others
    assert len(others) == 3
