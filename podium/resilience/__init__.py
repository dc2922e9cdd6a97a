"""Resilience: circuit breakers per service, dispatch limits per task type, result caching."""
