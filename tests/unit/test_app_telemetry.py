"""The server emits its own spans only: no span per HTTP request from the web framework."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# In a process of its own: the global tracer provider can be set only once per process.
_SCRIPT = textwrap.dedent(
    """
    import sys
    from fastapi.testclient import TestClient
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from podium.server.app import create_app
    from podium.settings import Settings

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    # A span through the global provider is recorded: the set-up itself works.
    with trace.get_tracer("check").start_as_current_span("probe"):
        pass
    with TestClient(create_app(Settings(database=sys.argv[1]))) as client:
        for _ in range(3):
            assert client.get("/api/health").status_code == 200
        assert client.get("/api/workflow/no-such-run").status_code == 404
    print(",".join(span.name for span in exporter.get_finished_spans()))
    """
)


def test_requests_make_no_framework_spans_under_a_global_tracer_provider(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(tmp_path / "podium.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "probe"
