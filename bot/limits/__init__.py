"""Limits: staying inside what the servers allow, and knowing what each server can do.

``budget`` (pure): paged requests per 15 minutes, posts per 3 hours, hashtags per request,
when to stretch polls. ``backoff`` (pure): exponential backoff with jitter. ``pauses``:
leaving Mastodon or arXiv alone after errors or a 429, kept across restarts. ``poll_pace``:
when the next poll is due. ``server_kinds`` (pure): which software a server runs and what
that changes (counting, idempotency, tags per request, streams). ``server_info``: what this
server said about itself, refreshed now and then, and what it refused.

It may import ``bot.models``, ``bot.errors``, ``bot.clock`` and ``bot.state``.
"""
