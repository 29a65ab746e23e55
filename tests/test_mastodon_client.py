"""The Mastodon adapter's one use of Mastodon.py's private request function.

``MastodonGateway._get_json`` calls ``Mastodon._Mastodon__api_request`` (for speed, and
because no public method sends ``any[]`` or ``include_filtered``). A new Mastodon.py that
renames it or changes its arguments must fail here, loudly, not in production.
"""

from __future__ import annotations

import inspect

from mastodon import Mastodon

from bot.clients.mastodon_rest import MastodonGateway
from tests.fakes.mastodon import TOKEN, FakeMastodon

PRIVATE = "_Mastodon__api_request"


def test_the_private_request_function_still_takes_what_the_adapter_passes() -> None:
    function = getattr(Mastodon, PRIVATE, None)
    assert function is not None, f"Mastodon.py no longer has {PRIVATE}: rewrite _get_json"
    parameters = list(inspect.signature(function).parameters)
    assert parameters[:4] == ["self", "method", "endpoint", "params"], parameters
    assert "return_response_object" in parameters, parameters


def test_it_sends_the_parameters_public_methods_cannot(mastodon: FakeMastodon) -> None:
    gateway = MastodonGateway(mastodon.url, TOKEN, timeout=5)
    try:
        gateway.tag_page(["arxiv", "papers", "ml"], "7", limit=3)
        gateway.mention_page("9", limit=2)
    finally:
        gateway.close()
    tags, notifications = mastodon.requests[-2:]
    assert tags.path == "/api/v1/timelines/tag/arxiv"
    assert tags.query == {"any[]": ["papers", "ml"], "min_id": ["7"], "limit": ["3"]}
    assert tags.headers["authorization"] == f"Bearer {TOKEN}"
    assert notifications.query["include_filtered"] == ["true"]
    assert notifications.query["types[]"] == ["mention"]
    assert notifications.query["limit"] == ["2"]
