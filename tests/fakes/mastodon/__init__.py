"""The fake Mastodon: ``server`` (state, set-up and dispatch), ``routes`` (one function an
endpoint), ``counting`` (the servers' own length rules), ``flavours`` (where the other servers
differ), ``entities`` (the API's JSON)."""

from tests.fakes.mastodon.counting import mastodon_count
from tests.fakes.mastodon.entities import StatusRecord
from tests.fakes.mastodon.flavours import FLAVOURS, Flavour
from tests.fakes.mastodon.server import TOKEN, FakeMastodon

__all__ = ["FLAVOURS", "TOKEN", "FakeMastodon", "Flavour", "StatusRecord", "mastodon_count"]
