"""Deciding: which statuses of a page are requests, and what each asks for.

A page comes in from ``bot.reading``. Each status is read once for what it asks (``asked``:
its papers and its command); the facts the decisions need are gathered in one pass
(``facts``: what was decided before, who said stop, who follows the bot, the posts that
mentions reply to, the account's answers and waiting requests this hour); then every status
is decided by pure rules (``policy``, ``verdicts``) and the intake (``intake``) logs the
verdicts. Nothing here writes anywhere: the result is a :class:`bot.models.Decided` that the
reading loop records with the page's cursor in one transaction.

It may import ``bot.models``, ``bot.text``, ``bot.state`` (to read) and ``bot.clients.ports``.
"""
