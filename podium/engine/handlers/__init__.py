"""Task types as handlers: one module per type or family, each a ``TaskHandler``
(``base.py``) that sees the decision through ``engine/decision_context.py``, and
``registry.py``, which maps each type to its handler for the decider."""
