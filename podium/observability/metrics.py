"""Prometheus metrics of one server instance, in a registry of its own.

Counters and histograms are updated after each commit from what the unit of work did; gauges
that describe shared state (queue depth, breakers) are read from the store at scrape time, so
every instance reports the same values whichever of them did the work.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["BREAKER_LEVELS", "LATENCY_BUCKETS_S", "Metrics", "queue_label"]

BREAKER_LEVELS = {"CLOSED": 0.0, "HALF_OPEN": 1.0, "OPEN": 2.0}
"""``podium_breaker_state``'s value for each circuit state."""

_SERVER_QUEUES = {"_podium.http": "HTTP", "_podium.jq": "JSON_JQ_TRANSFORM"}


def queue_label(queue: str) -> str:
    """A queue's name in metrics: a task type, or HTTP for the server's own HTTP tasks."""
    return _SERVER_QUEUES.get(queue, queue)


LATENCY_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 2.5, 5, 10, 30, 60, 300)
"""The latency histograms' bucket bounds, in seconds: what SLO rules can count at, so the
common thresholds (250 ms, 500 ms, 1 s, 2 s, 5 s) are among them."""


class Metrics:
    """Podium's metrics; ``render`` gives the Prometheus text format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.runs_started = Counter(
            "podium_runs_started", "Workflow runs started.", ["workflow"], registry=r
        )
        self.runs_finished = Counter(
            "podium_runs_finished",
            "Workflow runs that reached a final status.",
            ["workflow", "status"],
            registry=r,
        )
        self.run_duration = Histogram(
            "podium_run_duration_seconds",
            "Time from a run's start to its final status.",
            ["workflow", "status"],
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.tasks_finished = Counter(
            "podium_tasks_finished",
            "Task attempts that ended, by task type, service and status.",
            ["task_type", "service", "status"],
            registry=r,
        )
        self.task_latency = Histogram(
            "podium_task_latency_seconds",
            "Time a task attempt ran: from its hand-out to its result.",
            ["task_type", "service"],
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.queue_wait = Histogram(
            "podium_task_queue_wait_seconds",
            "Time a task waited in its queue before a worker took it.",
            ["task_type"],
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.queue_depth = Gauge(
            "podium_task_queue_depth",
            "Tasks queued and not yet handed out, by task type.",
            ["task_type"],
            registry=r,
        )
        self.ready_depth = Gauge(
            "podium_queue_depth",
            "Tasks ready to be handed out now, by task type (not those waiting out a retry "
            "delay): the backlog an autoscaler scales workers on.",
            ["task_type"],
            registry=r,
        )
        self.oldest_age = Gauge(
            "podium_queue_oldest_age_seconds",
            "How long the task waiting longest has been ready, by task type.",
            ["task_type"],
            registry=r,
        )
        self.retries = Counter(
            "podium_task_retries",
            "Task attempts scheduled as a retry of a failed one.",
            ["task_type"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "podium_breaker_state",
            "Circuit breaker of each service: 0 closed, 1 half-open, 2 open.",
            ["service"],
            registry=r,
        )
        self.breaker_transitions = Counter(
            "podium_breaker_transitions",
            "Circuit breaker transitions this instance made, by the state entered.",
            ["service", "to"],
            registry=r,
        )
        self.schedule_ticks_started = Counter(
            "podium_schedule_ticks_started",
            "Schedule ticks that started a run.",
            ["schedule"],
            registry=r,
        )
        self.schedule_ticks_skipped = Counter(
            "podium_schedule_ticks_skipped",
            "Schedule ticks that started no run, by why (overlap, start_failed).",
            ["schedule", "reason"],
            registry=r,
        )
        self.schedule_ticks_missed = Counter(
            "podium_schedule_ticks_missed",
            "Schedule ticks that fell while nothing ticked and the catch-up policy dropped.",
            ["schedule"],
            registry=r,
        )
        self.schedule_late = Histogram(
            "podium_schedule_late_seconds",
            "Time from a schedule tick's nominal time to the start of its run.",
            ["schedule"],
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.event_bus_lag = Gauge(
            "podium_event_bus_lag_seconds",
            "Age of the oldest event not yet delivered to its subscribers.",
            registry=r,
        )

        self.slo_objective = Gauge(
            "podium_slo_objective",
            "Each SLO's target: the share of good runs or task attempts it asks for.",
            ["slo"],
            registry=r,
        )
        self.slo_value = Gauge(
            "podium_slo_value",
            "Each SLO's share of good events over its window (absent with no events).",
            ["slo"],
            registry=r,
        )
        self.slo_budget = Gauge(
            "podium_slo_error_budget_remaining",
            "Each SLO's error budget not yet spent over its window (1 all, negative overspent).",
            ["slo"],
            registry=r,
        )
        self.slo_burn = Gauge(
            "podium_slo_burn_rate",
            "How many times faster than allowed each SLO's budget is spent, by standard window.",
            ["slo", "window"],
            registry=r,
        )

    def set_slos(
        self, slos: list[tuple[str, float, float | None, float, dict[str, float]]]
    ) -> None:
        """Replace the SLO samples (name, objective, value, budget left, burn by window): an
        SLO deleted must not keep its last values."""
        for gauge in (self.slo_objective, self.slo_value, self.slo_budget, self.slo_burn):
            gauge.clear()
        for name, objective, value, budget, burn in slos:
            self.slo_objective.labels(name).set(objective)
            if value is not None:
                self.slo_value.labels(name).set(value)
            self.slo_budget.labels(name).set(budget)
            for window, rate in burn.items():
                self.slo_burn.labels(name, window).set(rate)

    def set_queue_depths(self, sizes: dict[str, int]) -> None:
        """Replace the queue-depth samples: a queue that emptied must not keep its last value."""
        self.queue_depth.clear()
        for queue, size in sizes.items():
            self.queue_depth.labels(queue_label(queue)).set(size)

    def set_backlog(self, backlog: dict[str, tuple[int, float]]) -> None:
        """Replace the ready-depth and oldest-age samples (task type -> depth, age in s)."""
        self.ready_depth.clear()
        self.oldest_age.clear()
        for task_type, (depth, age_s) in backlog.items():
            self.ready_depth.labels(task_type).set(depth)
            self.oldest_age.labels(task_type).set(age_s)

    def set_breakers(self, states: dict[str, str]) -> None:
        self.breaker_state.clear()
        for service, circuit in states.items():
            self.breaker_state.labels(service).set(BREAKER_LEVELS.get(circuit, -1.0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
