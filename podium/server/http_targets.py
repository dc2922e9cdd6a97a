"""Which hosts HTTP tasks may call: the server's own API and cloud metadata are not among them.

An HTTP task's uri is often data, so without a policy anyone who can start a run could have the
server call what only the server can reach: its own API (from inside, past a proxy or a
firewall in front of it), a cloud's metadata service (credentials), the private network.
Every address a call would connect to is checked, after the name is resolved and before the
connection is made (and again at each redirect); the connection goes to the address checked,
so a name that resolves differently the second time gains nothing:

* ``PODIUM_HTTP_TASK_DENY`` and ``PODIUM_HTTP_TASK_ALLOW`` entries decide first; the most
  specific entry that matches wins (a host name over a network, a longer prefix over a
  shorter one, an entry with a port over one without), and on a tie deny wins;
* else the built-in rules: link-local and metadata addresses, multicast, and this machine at
  the server's own port are denied; with ``PODIUM_HTTP_TASK_STRICT=on`` so are loopback, the
  private ranges and ``0.0.0.0``; everything else is allowed.

Entries: ``10.0.0.0/8``, ``10.1.2.3:8443``, ``[fd00::/8]:443``, ``::1``, ``api.example.com``,
``*.example.com:443``, ``*`` (any host; ``PODIUM_HTTP_TASK_DENY=*`` and an allow list make an
allow-only policy). A host name entry trusts whatever that name resolves to.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from podium.errors import PodiumError, ValidationError

__all__ = ["CheckedResolver", "TargetPolicy", "TargetRefusedError", "TargetRule", "parse_rule"]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_net = ipaddress.ip_network

_ALWAYS_DENIED: tuple[tuple[Network, str], ...] = (
    (_net("169.254.0.0/16"), "link-local (cloud metadata)"),
    (_net("fe80::/10"), "link-local (cloud metadata)"),
    (_net("fd00:ec2::254/128"), "cloud metadata"),
    (_net("100.100.100.200/32"), "cloud metadata"),
    (_net("192.0.0.192/32"), "cloud metadata"),
    (_net("224.0.0.0/4"), "multicast"),
    (_net("ff00::/8"), "multicast"),
    (_net("255.255.255.255/32"), "broadcast"),
)
_STRICT_DENIED: tuple[tuple[Network, str], ...] = (
    (_net("127.0.0.0/8"), "loopback"),
    (_net("::1/128"), "loopback"),
    (_net("0.0.0.0/8"), "this host"),
    (_net("::/128"), "this host"),
    (_net("10.0.0.0/8"), "private"),
    (_net("172.16.0.0/12"), "private"),
    (_net("192.168.0.0/16"), "private"),
    (_net("100.64.0.0/10"), "shared (carrier-grade NAT)"),
    (_net("fc00::/7"), "private"),
)
_NAT64 = _net("64:ff9b::/96")


class TargetRefusedError(PodiumError, OSError):
    """The policy refuses a target. Also an ``OSError``, so that the HTTP client reports it as
    a failed connection: the run sees the same reason as for a closed port."""

    code = "E_TARGET_REFUSED"

    def __init__(self, message: str) -> None:
        super().__init__(message, service="server.http_tasks")


@dataclass(frozen=True, slots=True)
class TargetRule:
    """One ``PODIUM_HTTP_TASK_ALLOW`` or ``..._DENY`` entry."""

    allow: bool
    text: str
    network: Network | None = None
    name: str | None = None
    """A host name, or ``.example.com`` for ``*.example.com``; both None for ``*``."""
    port: int | None = None

    def matches(self, host: str, port: int, address: Address) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is not None:
            return address.version == self.network.version and address in self.network
        if self.name is None:
            return True
        if self.name.startswith("."):
            return host.endswith(self.name)
        return host == self.name

    @property
    def specificity(self) -> tuple[int, int, int]:
        if self.network is not None:
            # An IPv4 /32 is as exact as an IPv6 /128.
            exact = self.network.prefixlen + (96 if self.network.version == 4 else 0)
            kind, length = 1, exact
        elif self.name is None:
            kind, length = 0, 0
        elif self.name.startswith("."):
            kind, length = 2, len(self.name)
        else:
            kind, length = 3, 0
        return kind, length, 0 if self.port is None else 1


def parse_rule(text: str, *, allow: bool, setting: str) -> TargetRule:
    """One entry as written; a bad one is refused naming ``setting``."""
    entry = text.strip()
    host, port = entry, None
    try:
        if entry.startswith("["):
            inside, _, rest = entry[1:].partition("]")
            host = inside
            if rest:
                if not rest.startswith(":"):
                    raise ValueError("expected ':port' after ']'")
                port = _port(rest[1:])
        elif entry.count(":") == 1:
            host, _, raw = entry.partition(":")
            port = _port(raw)
        if host == "*":
            return TargetRule(allow, entry, port=port)
        if ":" in host or host.replace(".", "").replace("/", "").isdigit():
            return TargetRule(allow, entry, network=_net(host, strict=False), port=port)
        name = host.lower().rstrip(".")
        wildcard = name.startswith("*.")
        label = name[2:] if wildcard else name
        if not label or not all(part and _is_label(part) for part in label.split(".")):
            raise ValueError("expected an address, a network, a host name or '*'")
        return TargetRule(allow, entry, name="." + label if wildcard else label, port=port)
    except ValueError as exc:
        raise ValidationError(
            f"{setting}: '{entry}' is not a target ({exc}); write an address (10.1.2.3), a "
            "network (10.0.0.0/8, [fd00::/8]), a host name (api.example.com, *.example.com) "
            "or '*', each optionally with ':port'",
            service="server",
            field=setting,
        ) from None


def _port(raw: str) -> int:
    port = int(raw)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return port


def _is_label(part: str) -> bool:
    return part.replace("-", "").replace("_", "").isalnum() and part.isascii()


def is_local_address(address: Address) -> bool:
    """Whether ``address`` is this machine's: loopback, unspecified, or one it can bind."""
    if address.is_loopback or address.is_unspecified:
        return True
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))  # binding works only for the machine's own addresses
    except OSError:
        return False
    return True


def _views(address: Address) -> list[Address]:
    """``address`` and the IPv4 address it stands for, if any: ``::ffff:127.0.0.1`` reaches
    loopback, and NAT64 and 6to4 addresses reach the IPv4 address inside them."""
    views: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            views.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            views.append(address.sixtofour)
        if address in _NAT64:
            views.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return views


class TargetPolicy:
    """Decides whether an HTTP task may connect to an address (see the module's docstring)."""

    def __init__(
        self,
        allow: Iterable[str] = (),
        deny: Iterable[str] = (),
        *,
        strict: bool = False,
        own_port: int | None = None,
        is_local: Callable[[Address], bool] = is_local_address,
    ) -> None:
        self.rules = [
            *(parse_rule(e, allow=True, setting="PODIUM_HTTP_TASK_ALLOW") for e in allow),
            *(parse_rule(e, allow=False, setting="PODIUM_HTTP_TASK_DENY") for e in deny),
        ]
        self.strict = strict
        self.own_port = own_port
        self._is_local = is_local

    def refusal(self, host: str, port: int, address: str) -> str | None:
        """Why a call to ``host`` at ``address``:``port`` is refused; None if it is allowed.

        The answer is for the server's log: the run is told only that the host could not be
        reached, as when nothing listens there."""
        try:
            parsed = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"{address} is not an IP address"
        name = host.lower().rstrip(".")
        for view in _views(parsed):
            verdict = self._decide(name, port, view)
            if verdict is not None:
                return f"{host}:{port} ({view}) is denied: {verdict}"
        return None

    def _decide(self, host: str, port: int, address: Address) -> str | None:
        matching = [rule for rule in self.rules if rule.matches(host, port, address)]
        if matching:
            # Most specific first; among equals, deny before allow.
            best = max(matching, key=lambda rule: (rule.specificity, not rule.allow))
            return None if best.allow else f"{_setting(best)} entry '{best.text}'"
        return self._built_in(port, address)

    def _built_in(self, port: int, address: Address) -> str | None:
        for network, what in _ALWAYS_DENIED + (_STRICT_DENIED if self.strict else ()):
            if address.version == network.version and address in network:
                return f"{what} addresses are denied"
        if port == self.own_port and self._is_local(address):
            return "this machine at the server's own port (its API)"
        return None


def _setting(rule: TargetRule) -> str:
    return "PODIUM_HTTP_TASK_ALLOW" if rule.allow else "PODIUM_HTTP_TASK_DENY"


class CheckedResolver(AbstractResolver):
    """aiohttp's resolver, refusing a name if any address it resolves to is denied.

    aiohttp connects to the addresses its resolver returns, so what is checked is what is
    called. IP addresses written in a uri skip resolvers: the caller checks those itself."""

    def __init__(self, policy: TargetPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        for entry in found:
            reason = self.policy.refusal(host, port, entry["host"])
            if reason is not None:
                raise TargetRefusedError(reason)
        return found

    async def close(self) -> None:
        await self._inner.close()
