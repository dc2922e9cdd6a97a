"""Server settings: one frozen value built from ``PODIUM_*`` variables and CLI flags."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

from podium.dsl.nesting import DEFAULT_MAX_DEPTH
from podium.notifications.settings import NotifySettings

__all__ = ["Settings"]


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be on or off, not {raw!r}")


def _env_list(name: str) -> tuple[str, ...]:
    raw = os.environ.get(name) or ""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _env_float_or_none(name: str) -> float | None:
    raw = os.environ.get(name)
    return float(raw) if raw else None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server needs to know, passed explicitly to whatever needs it."""

    database: str = "podium.db"
    """Path of the SQLite file (``:memory:`` is refused: a run must survive a restart).
    ``PODIUM_DATABASE`` names it; else it is ``podium.db`` in ``PODIUM_DATA_DIR`` (default: the
    current directory)."""
    database_url: str | None = None
    """``postgresql://...`` to use PostgreSQL (shared by every instance) instead of SQLite."""
    database_schema: str = "public"
    """The PostgreSQL schema Podium's tables live in."""
    database_pool_size: int = 10
    """PostgreSQL connections per instance: how many units of work it runs at once."""
    host: str = "127.0.0.1"
    port: int = 8080
    sqlite_synchronous: str = "FULL"
    """SQLite's ``synchronous`` pragma: FULL survives power loss; NORMAL survives a killed
    process (every commit is in the WAL before it is acknowledged) and commits faster."""
    max_payload_bytes: int = 5 * 1024 * 1024
    """Largest request body accepted; larger ones get 413 and change nothing."""
    max_task_output_bytes: int = 1024 * 1024
    """Largest ``outputData`` of a worker's result (as JSON); larger ones get 413."""
    max_workflow_input_bytes: int = 1024 * 1024
    """Largest input of a run started through the API (as JSON); larger ones get 413."""
    max_json_depth: int = DEFAULT_MAX_DEPTH
    """Levels of objects and arrays a request body, a worker's output, a script's result or a
    task's resolved input may nest (at most 100): deeper bodies get 400, deeper values made
    inside a run fail the task that made them."""
    max_fork_width: int = 1000
    """Branches one fork may have: wider FORK_JOINs are refused at registration and wider
    FORK_JOIN_DYNAMICs fail at run time."""
    max_loop_iterations: int = 10_000
    """Iterations one DO_WHILE may run; the one past it fails the loop."""
    max_subworkflow_depth: int = 20
    """How deep SUB_WORKFLOWs may nest; one that would go deeper fails."""
    max_tasks_per_run: int = 20_000
    """Tasks one run may hold; a run that would schedule one more fails, naming the limit."""
    decision_step_budget: int = 1000
    """Tasks one unit of work may schedule for one run; a run with more to do goes on in a
    later unit, so other runs' writes get in between."""
    jq_time_limit_ms: int = 1000
    """How long one JSON_JQ_TRANSFORM query may run; its process is killed then and the task
    fails."""
    secrets_file: str | None = None
    """A JSON object of secrets (name to value) that ``${workflow.secrets.NAME}`` in HTTP
    tasks may use, besides ``PODIUM_SECRET_<NAME>`` variables."""
    max_poll_timeout_ms: int = 30_000
    """Upper bound of a long poll, whatever the worker asks for."""
    sweep_interval_s: float = 1.0
    """How often the sweeper looks for expired leases and due timers when nothing pokes it."""
    http_task_concurrency: int = 32
    """How many HTTP tasks the server calls at once."""
    no_worker_warning_s: float = 30.0
    """A task that has waited this long while no worker polled its type is reported on its
    run ("no worker has polled type 'x'")."""
    http_task_allow: tuple[str, ...] = ()
    """Targets HTTP tasks may call though the built-in rules deny them: addresses, networks
    (``10.0.0.0/8``), host names (``*.example.com``) or ``*``, each optionally ``:port``."""
    http_task_deny: tuple[str, ...] = ()
    """Targets HTTP tasks may not call, in the same form (see ``server/http_targets``)."""
    http_task_strict: bool = False
    """Deny loopback, the private ranges and ``0.0.0.0`` too (link-local and metadata
    addresses and the server's own port are denied always)."""
    retention_days: float | None = None
    """Ended runs older than this are removed (None: kept for ever)."""
    retention_mode: str = "delete"
    """``delete`` ended runs, or ``archive`` them (moved to the ``archived_runs`` table)."""
    retention_batch: int = 500
    """Runs removed per transaction, so retention never holds live work up for long."""
    retention_interval_s: float = 60.0
    """How often each instance looks for runs past their retention."""
    auth: bool = False
    """Require an API key (or a token from ``POST /api/token``) on every call but health."""
    token_ttl_s: int = 3600
    """How long a token from ``POST /api/token`` is good for."""
    rate_limit_per_key: float = 0.0
    """Requests per second each key may make, per instance (0: no limit)."""
    auth_key_cache_s: float = 5.0
    """How long an instance trusts what it read of a key: a revoked key stops within this."""
    event_retry_base_ms: int = 500
    """First back-off of a failed event delivery; it doubles with each attempt."""
    nats_url: str | None = None
    """``nats://host:4222`` to bridge the bus to NATS JetStream (``nats:`` sinks and topics)."""
    nats_stream: str = "PODIUM"
    """The JetStream stream the bridge keeps its subjects in (created if missing)."""
    nats_subjects: tuple[str, ...] = ()
    """Subjects (wildcards allowed) the stream holds and the bridge consumes into the bus."""
    amqp_url: str | None = None
    """``amqp://user:pass@host:5672/`` to bridge the bus to RabbitMQ (``amqp:`` sinks)."""
    amqp_queues: tuple[str, ...] = ()
    """RabbitMQ queues the bridge consumes into the bus (as topics ``amqp:<queue>``)."""
    log_format: str = "text"
    """``text`` for people; ``json``: one object per line, with a line per unit of work."""
    notify: NotifySettings = field(default_factory=NotifySettings)
    """Notifications: SMTP, retries, the UI's address for links (``PODIUM_SMTP_*``, ...)."""

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from ``PODIUM_*`` environment variables, then ``overrides`` that are not None."""
        d = cls()  # slots leave no class-level defaults to read, so read an instance's
        base = cls(
            database=os.environ.get("PODIUM_DATABASE") or _in_data_dir(d.database),
            database_url=os.environ.get("PODIUM_DATABASE_URL") or None,
            database_schema=os.environ.get("PODIUM_DATABASE_SCHEMA", d.database_schema),
            database_pool_size=_env_int("PODIUM_DATABASE_POOL_SIZE", d.database_pool_size),
            host=os.environ.get("PODIUM_HOST", d.host),
            port=_env_int("PODIUM_PORT", d.port),
            sqlite_synchronous=os.environ.get("PODIUM_SQLITE_SYNCHRONOUS", d.sqlite_synchronous),
            max_payload_bytes=_env_int("PODIUM_MAX_PAYLOAD_BYTES", d.max_payload_bytes),
            max_task_output_bytes=_env_int("PODIUM_MAX_TASK_OUTPUT_BYTES", d.max_task_output_bytes),
            max_workflow_input_bytes=_env_int(
                "PODIUM_MAX_WORKFLOW_INPUT_BYTES", d.max_workflow_input_bytes
            ),
            max_json_depth=_env_int("PODIUM_MAX_JSON_DEPTH", d.max_json_depth),
            max_fork_width=_env_int("PODIUM_MAX_FORK_WIDTH", d.max_fork_width),
            max_loop_iterations=_env_int("PODIUM_MAX_LOOP_ITERATIONS", d.max_loop_iterations),
            max_subworkflow_depth=_env_int("PODIUM_MAX_SUBWORKFLOW_DEPTH", d.max_subworkflow_depth),
            max_tasks_per_run=_env_int("PODIUM_MAX_TASKS_PER_RUN", d.max_tasks_per_run),
            decision_step_budget=_env_int("PODIUM_DECISION_STEP_BUDGET", d.decision_step_budget),
            jq_time_limit_ms=_env_int("PODIUM_JQ_TIME_LIMIT_MS", d.jq_time_limit_ms),
            secrets_file=os.environ.get("PODIUM_SECRETS_FILE") or None,
            max_poll_timeout_ms=_env_int("PODIUM_MAX_POLL_TIMEOUT_MS", d.max_poll_timeout_ms),
            sweep_interval_s=_env_float("PODIUM_SWEEP_INTERVAL_S", d.sweep_interval_s),
            http_task_concurrency=_env_int("PODIUM_HTTP_TASK_CONCURRENCY", d.http_task_concurrency),
            no_worker_warning_s=_env_float("PODIUM_NO_WORKER_WARNING_S", d.no_worker_warning_s),
            http_task_allow=_env_list("PODIUM_HTTP_TASK_ALLOW"),
            http_task_deny=_env_list("PODIUM_HTTP_TASK_DENY"),
            http_task_strict=_env_bool("PODIUM_HTTP_TASK_STRICT", d.http_task_strict),
            retention_days=_env_float_or_none("PODIUM_RETENTION_DAYS"),
            retention_mode=os.environ.get("PODIUM_RETENTION_MODE", d.retention_mode),
            retention_batch=_env_int("PODIUM_RETENTION_BATCH", d.retention_batch),
            auth=_env_bool("PODIUM_AUTH", d.auth),
            token_ttl_s=_env_int("PODIUM_TOKEN_TTL_S", d.token_ttl_s),
            rate_limit_per_key=_env_float("PODIUM_RATE_LIMIT_PER_KEY", d.rate_limit_per_key),
            auth_key_cache_s=_env_float("PODIUM_AUTH_KEY_CACHE_S", d.auth_key_cache_s),
            retention_interval_s=_env_float("PODIUM_RETENTION_INTERVAL_S", d.retention_interval_s),
            event_retry_base_ms=_env_int("PODIUM_EVENT_RETRY_BASE_MS", d.event_retry_base_ms),
            nats_url=os.environ.get("PODIUM_NATS_URL") or None,
            nats_stream=os.environ.get("PODIUM_NATS_STREAM", d.nats_stream),
            nats_subjects=_env_list("PODIUM_NATS_SUBJECTS"),
            amqp_url=os.environ.get("PODIUM_AMQP_URL") or None,
            amqp_queues=_env_list("PODIUM_AMQP_QUEUES"),
            log_format=os.environ.get("PODIUM_LOG_FORMAT", d.log_format),
            notify=NotifySettings.from_env(),
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def store_description(self) -> str:
        """Where runs are kept, for logs: never a password."""
        if self.database_url:
            return _without_password(self.database_url)
        return f"sqlite:{self.database}"


def _in_data_dir(name: str) -> str:
    """``name`` in ``PODIUM_DATA_DIR``, the directory a user names for "where the data lives"."""
    folder = os.environ.get("PODIUM_DATA_DIR")
    return os.path.join(folder, name) if folder else name


_URL_PASSWORD = re.compile(r"(//[^:/@\s,]*):[^@\s/]*@")
_KEYWORD_PASSWORD = re.compile(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def _without_password(url: str) -> str:
    """Each URL's password (a list may hold several) and a keyword string's ``password=``."""
    url = _URL_PASSWORD.sub(r"\1:***@", url)
    return _KEYWORD_PASSWORD.sub("password=***", url)
