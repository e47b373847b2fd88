"""Optional Prometheus metrics (``[metrics] port``): commands, their latency, the model queue, jobs."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One registry per bot, so several bots in one process (the tests) do not collide."""

    def __init__(self, jobs: Callable[[], int], model_queue: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter("akbot_commands", "Commands handled", ["command"], registry=self.registry)
        self.latency = Histogram(
            "akbot_command_seconds",
            "From the sync that brought a command to the end of its handling",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        Gauge("akbot_scheduled_jobs", "Jobs in the scheduler", registry=self.registry).set_function(jobs)
        Gauge("akbot_model_queue", "Questions waiting for the model", registry=self.registry).set_function(
            model_queue
        )

    def observe(self, command: str, seconds: float) -> None:
        self.commands.labels(command=command).inc()
        self.latency.observe(seconds)

    def serve(self, port: int, host: str) -> None:
        start_http_server(port, addr=host, registry=self.registry)
