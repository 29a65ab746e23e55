"""Ops: what the operator sees of the bot besides its posts.

``health`` (``arxiv-bot healthcheck``: standard library only, the state file read-only),
``check`` (``arxiv-bot check``: every setting and the server tried for real), ``preview``
(``arxiv-bot preview``: the replies without an account), ``metrics`` (Prometheus) and
``reporting`` (after each cycle: the heartbeat the healthcheck reads, and the metrics).
``check`` and ``preview`` are handed their clients by ``__main__``, from ``app.py``.

This file imports nothing: the healthcheck must stay light.
"""
