"""Reading: where statuses come from, page by page, into the one intake.

Every source of statuses is a small adapter with the same shape (``sources``): the hashtag
timelines and the mentions polled forward from a stored cursor, sweeps of recent history for
posts that arrived late (``sweeps``), and the inbox the live streams fill (``inbox``, kept by
the stream threads of ``streams``). ``pages`` is the one loop that reads any of them: each
page goes to ``bot.deciding`` and comes back as decisions, recorded together with the page's
cursor in one transaction. Nothing is written to Mastodon while a page is read.

It may import ``bot.models``, ``bot.deciding``, ``bot.state``, ``bot.limits`` and
``bot.clients.ports``.
"""
