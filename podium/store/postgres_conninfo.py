"""Reading ``PODIUM_DATABASE_URL``: one server, several (a primary and its standbys), or a list.

libpq finds the primary among several hosts itself: given ``host=a,b`` (or
``postgresql://a:5432,b:5433/db``) and ``target_session_attrs=read-write`` it tries each host
in turn and keeps the first that accepts writes, so after a failover a new connection reaches
the promoted standby. A list of whole URLs (``postgresql://a/db,postgresql://b/db``, commas or
spaces between) becomes one such string. Several hosts without ``target_session_attrs`` get
``read-write``: a standby would refuse every write, and a server that answers read-only is no
use to Podium.
"""

from __future__ import annotations

import re

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from podium.errors import ValidationError

Conninfo = dict[str, str | int | None]

__all__ = ["CONNECT_TIMEOUT_S", "is_postgres_url", "primary_conninfo"]

CONNECT_TIMEOUT_S = 2
"""How long a connection attempt may take, per host, unless the URL says otherwise: a host
that does not answer (a dead machine rather than a stopped server) must not hold requests up
for libpq's default of forever."""

_DEAD_HOST = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,
}
"""TCP settings, unless the URL gives its own, that notice a host gone silent (a machine lost,
a network split: nothing sends a reset) in about 10 s instead of the system's two hours, so
that a connection waiting on it fails and the store looks for the primary again."""

_URL = re.compile(r"^postgres(?:ql)?://")
_NEXT_URL = re.compile(r"[\s,]+(?=postgres(?:ql)?://)")
_KEYWORDS = re.compile(r"^\s*(host|hostaddr|dbname|port|user|service)\s*=")


def is_postgres_url(value: str) -> bool:
    """A ``postgresql://`` URL, a list of them, or a libpq ``key=value`` string naming a host."""
    return bool(_URL.match(value.strip()) or _KEYWORDS.match(value))


def primary_conninfo(url: str) -> str:
    """The libpq string for ``url``, with a connect timeout and, given several hosts,
    ``target_session_attrs=read-write``; a ValidationError names what cannot be read."""
    try:
        parts = [conninfo_to_dict(one) for one in _NEXT_URL.split(url.strip())]
    except ProgrammingError as exc:
        raise ValidationError(
            f"the database URL cannot be read: {exc}",
            service="store.postgres",
            field="database_url",
        ) from exc
    merged = _merge(parts)
    hosts = str(merged.get("host", "")).split(",")
    if len(hosts) > 1:
        merged.setdefault("target_session_attrs", "read-write")
    merged.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    for key, value in _DEAD_HOST.items():
        merged.setdefault(key, value)
    return make_conninfo("", **merged)


def _merge(parts: list[Conninfo]) -> Conninfo:
    """One conninfo for several: their hosts and ports listed in order, the rest shared."""
    if len(parts) == 1:
        return dict(parts[0])
    first = {k: v for k, v in parts[0].items() if k not in ("host", "port")}
    for other in parts[1:]:
        rest = {k: v for k, v in other.items() if k not in ("host", "port")}
        if rest != first:
            raise ValidationError(
                "the database URLs listed differ in more than their hosts and ports "
                "(one database, user and options for all of them)",
                service="store.postgres",
                field="database_url",
            )
    hosts = [str(p.get("host", "localhost")) for p in parts]
    ports = [str(p.get("port", "5432")) for p in parts]
    return {**first, "host": ",".join(hosts), "port": ",".join(ports)}
