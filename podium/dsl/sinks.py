"""Where an EVENT task publishes: Conductor's ``sink`` strings, read into (broker, destination).

``conductor:<topic>`` (or bare ``conductor``) publishes on Podium's own bus; ``nats:<subject>``
and ``amqp:<queue>`` go to an external broker through a bridge, and are kept on the bus too,
under the topic ``nats:<subject>`` / ``amqp:<queue>``, so handlers and traces see them.
"""

from __future__ import annotations

__all__ = ["BUS", "SINK_BROKERS", "Sink", "parse_sink", "sink_problem"]

BUS = "conductor"
_ALIASES = {
    "conductor": BUS,
    "nats": "nats",
    "nats_stream": "nats",
    "amqp": "amqp",
    "amqp_queue": "amqp",
}
SINK_BROKERS = frozenset(_ALIASES)


class Sink:
    """A parsed sink: ``broker`` is "conductor", "nats" or "amqp"."""

    __slots__ = ("broker", "destination")

    def __init__(self, broker: str, destination: str) -> None:
        self.broker = broker
        self.destination = destination

    @property
    def topic(self) -> str:
        """The topic the event is kept under on Podium's bus."""
        return self.destination if self.broker == BUS else f"{self.broker}:{self.destination}"

    @property
    def external(self) -> bool:
        return self.broker != BUS


def parse_sink(sink: str, default_topic: str) -> Sink:
    """Read ``sink``; bare ``conductor`` publishes to ``default_topic``. ValueError says why."""
    prefix, _, rest = sink.partition(":")
    broker = _ALIASES.get(prefix.strip().lower())
    if broker is None:
        known = ", ".join(f"'{name}:'" for name in sorted(SINK_BROKERS))
        raise ValueError(f"sink '{sink}' names no known broker (known: {known})")
    destination = rest.strip()
    if not destination:
        if broker != BUS:
            raise ValueError(f"sink '{sink}' needs a {'subject' if broker == 'nats' else 'queue'}")
        destination = default_topic
    return Sink(broker, destination)


def sink_problem(sink: str | None) -> str | None:
    """Why an EVENT task's ``sink`` cannot be published to, or None."""
    if not sink:
        return "an EVENT task needs a sink, e.g. 'conductor:order.shipped' or 'nats:orders'"
    try:
        parse_sink(sink, "-")
    except ValueError as exc:
        return str(exc)
    return None
