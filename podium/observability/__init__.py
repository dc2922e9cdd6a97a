"""Correlation and request ids, traces, metrics and structured logs.

``context`` (ids and W3C trace context) has no dependency beyond the standard library, so the
worker SDK and the server share it; ``tracing`` imports OpenTelemetry only when tracing is
configured through the standard ``OTEL_*`` variables.
"""
