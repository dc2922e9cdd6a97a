"""The order demo: reserve inventory, charge payment and ship, as three separate services.

* :mod:`examples.order.workers` — the inventory and payment workers (Podium SIMPLE tasks);
* :mod:`examples.order.shipping_service` — a small HTTP shipping API (a Podium HTTP task);
* ``order_workflow.json`` — the Conductor-format definitions tying them together;
* :mod:`examples.order.demo` — starts everything, runs a few orders and shows what happened.
"""
