"""Runnable examples of Podium orchestrating real services (``python -m examples.order.demo``)."""
