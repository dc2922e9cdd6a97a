"""Podium's event bus: publish/subscribe kept in the store, event handlers, broker bridges and
the trace of one business transaction across workflows, tasks, events and services."""
