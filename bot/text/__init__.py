"""Text: every word the bot reads or writes, as pure functions.

Reading: the arXiv ids a status points to (``arxiv_ids`` for the rules and link forms,
``arxiv_links`` for finding them in HTML and text) and the command after the bot's handle
(``commands``). Writing: LaTeX made readable (``latex``, ``latex_math``, ``latex_symbols``),
the abstract's summary (``summary``, with the learnt ``sentence_model``), checks on a
machine-written TL;DR (``tldr``), the reply thread sized to the server (``compose``, counted
as the server counts by ``counting``), and the bot's own words (``messages``). No logging, no
clock, no network: tables of real inputs test all of it.

It may import ``bot.models`` only.
"""
