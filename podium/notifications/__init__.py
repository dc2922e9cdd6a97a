"""Notifications: what is told to the channels of the service behind a failure (and of its
workflow), written to a durable outbox in the decision's transaction and sent after commit.

``messages`` builds what a channel is told (pure), ``outbox`` writes it with the decision,
``signing`` signs and verifies webhook bodies, ``senders`` delivers one message, ``limiter``
keeps each channel to its rate. The pump that sends is ``podium.server.notify_pump``.
"""

from podium.notifications.signing import SIGNATURE_HEADER, sign, verify

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]
