"""Replying: from a queued request to posted replies, exactly once.

``queue`` works through the waiting requests in order (what waits for arXiv, an account's
hour or the post budget; what is given up); ``papers`` gets their papers (the cache, one
batched arXiv request, machine TL;DRs); ``posting`` posts each request's thread exactly once
(intent recorded first, the thread searched after a crash, idempotency keys, the one retry of
a post refused as too long) and records every reply as it goes.

It may import ``bot.models``, ``bot.text``, ``bot.deciding.policy``, ``bot.limits``,
``bot.state`` and ``bot.clients.ports``.
"""
