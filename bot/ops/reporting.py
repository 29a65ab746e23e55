"""After every cycle: the heartbeat the healthcheck reads, and the metrics, if served."""

from __future__ import annotations

from collections.abc import Mapping

from bot.clock import Clock
from bot.limits.pauses import Pause
from bot.models import CycleReport
from bot.ops.health import heartbeat
from bot.ops.metrics import Metrics
from bot.reading.streams import Streams
from bot.state.ledger import Ledger
from bot.state.meta import Meta


class CycleReporter:
    def __init__(
        self,
        meta: Meta,
        ledger: Ledger,
        pauses: Mapping[str, Pause],
        clock: Clock,
        *,
        health_max_age: float,
        streams: Streams | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._meta = meta
        self._ledger = ledger
        self._pauses = pauses
        self._clock = clock
        self._max_age = health_max_age
        self._streams = streams
        self._metrics = metrics

    def __call__(self, report: CycleReport) -> None:
        # The loop is alive, whatever the world answered: the healthcheck watches this.
        views = self._streams.views() if self._streams is not None else []
        now = self._clock.now()
        self._meta.set_many(heartbeat(now, self._max_age, views))
        if self._metrics is not None:
            paused = {service: pause.retry_in() for service, pause in self._pauses.items()}
            self._metrics.observe(report, self._ledger.depth(), paused, now, views)
