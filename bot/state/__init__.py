"""The state: one SQLite file, what the bot must remember across restarts.

One connection with an injected clock (``db``), the layout and its upgrades (``schema``), the
versioned JSON kept in it (``codecs``), and one module per reason to change: where each
source's cursor stands (``cursors``), the queue and the ledger of what was answered
(``ledger``), who said stop and who got a notice (``consent``), papers arXiv sent
(``paper_cache``), the named values kept between runs (``meta``) and what is forgotten when
(``retention``). ``store`` opens them together. Rooms are handed only the parts they use.

It may import ``bot.models``, ``bot.errors`` and ``bot.clock``, nothing else of the bot. This
file stays empty of imports: the healthcheck reads ``meta``'s key names without the rest.
"""
