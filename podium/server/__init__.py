"""The ASGI server: routes, orchestrator, sweeper and the HTTP task executor."""
