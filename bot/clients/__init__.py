"""Clients: the adapters, the only code that speaks to the outside world.

``ports`` says what the rooms need of each outside system; ``mastodon_rest`` (REST through
Mastodon.py, its errors made the project's), ``mastodon_json`` (the API's JSON as the
project's values, for polls and streams alike), ``mastodon_sse`` (live streams as
server-sent events), ``arxiv_api`` (batched, paced metadata requests) and ``llm_api`` (an
OpenAI-compatible endpoint) implement them. Only these modules import a client library, and
each turns the library's exceptions into :mod:`bot.errors`.

It may import ``bot.models``, ``bot.errors``, ``bot.text`` and the pure parts of
``bot.limits`` (``budget``, ``server_kinds``).
"""
