"""The web UI: hand-written static files in ``static/``, served by the server at ``/ui``."""
