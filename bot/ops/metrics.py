"""Prometheus metrics, for operators who scrape them (``BOT_METRICS_PORT``; off by default).

The cycle reports what it did; this module turns each report into counters and gauges, on
its own registry (nothing global), served by ``prometheus-client``'s small HTTP server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from bot.models import CycleReport, StreamView


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._server: WSGIServer | None = None
        self.seen = Counter(
            "arxiv_bot_statuses_seen", "Statuses read, by how", ["read"], registry=r
        )
        self.posts = Counter(
            "arxiv_bot_posts", "Posts the bot made (replies and notices)", registry=r
        )
        self.replied = Counter("arxiv_bot_requests_answered", "Requests answered", registry=r)
        self.remote = Counter(
            "arxiv_bot_remote_posts",
            "Posts with a paper found on other servers' tag timelines, and resolved here",
            ["outcome"],
            registry=r,
        )
        self.dropped = Counter(
            "arxiv_bot_requests_dropped", "Requests given up on, by reason", ["reason"], registry=r
        )
        self.api_errors = Counter(
            "arxiv_bot_api_errors",
            "Failed requests, by service and HTTP status",
            ["service", "status"],
            registry=r,
        )
        self.queue = Gauge("arxiv_bot_queue_depth", "Requests waiting in the queue", registry=r)
        self.paused = Gauge(
            "arxiv_bot_backoff_seconds",
            "Seconds until a paused service is asked again",
            ["service"],
            registry=r,
        )
        self.stream_connected = Gauge(
            "arxiv_bot_stream_connected",
            "Whether a live stream is connected (1) or not (0)",
            ["stream"],
            registry=r,
        )
        self.stream_age = Gauge(
            "arxiv_bot_stream_last_event_age_seconds",
            "Seconds since a live stream last carried a heartbeat or an event",
            ["stream"],
            registry=r,
        )
        self.last_cycle = Gauge(
            "arxiv_bot_last_cycle_timestamp_seconds",
            "When the loop last completed a cycle",
            registry=r,
        )

    def observe(
        self,
        report: CycleReport,
        queue_depth: int,
        paused: Mapping[str, float],
        at: datetime,
        streams: Sequence[StreamView] = (),
    ) -> None:
        self.seen.labels("live").inc(report.seen - report.streamed)
        self.seen.labels("stream").inc(report.streamed)
        self.seen.labels("sweep").inc(report.swept)
        self.posts.inc(report.posts)
        self.replied.inc(report.replied)
        self.remote.labels("found").inc(report.found_remote)
        self.remote.labels("resolved").inc(report.resolved)
        for reason, count in report.dropped_reasons.items():
            self.dropped.labels(reason).inc(count)
        for (service, status), count in report.api_errors.items():
            self.api_errors.labels(service, status).inc(count)
        self.queue.set(queue_depth)
        for service, seconds in paused.items():
            self.paused.labels(service).set(seconds)
        self.last_cycle.set(at.timestamp())
        for view in streams:
            self.stream_connected.labels(view.name).set(1 if view.connected else 0)
            if view.last_event_at is not None:
                self.stream_age.labels(view.name).set((at - view.last_event_at).total_seconds())

    def serve(self, host: str, port: int) -> int:
        """Serve ``/metrics`` from a daemon thread; returns the port (``0`` picks a free one)."""
        self._server, _ = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_address[1])

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
