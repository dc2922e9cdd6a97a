"""The order demo: reserve inventory, charge payment and ship, as three separate services.

* :mod:`examples.order.workers` — the inventory and payment workers (Podium SIMPLE tasks),
  with ``release_inventory``, the compensation that gives a reservation back;
* :mod:`examples.order.shipping_service` — a small HTTP shipping API (a Podium HTTP task),
  with an outage switch;
* ``services.json`` — who owns each service, and the shipping service's circuit breaker;
* ``order_workflow.json`` — the Conductor-format definitions tying them together;
* :mod:`examples.order.demo` — starts everything, runs the scenarios
  (:mod:`examples.order.scenarios`) and shows what happened.
"""
