"""The HTTP-task target policy: entries, precedence, built-in rules and the checked resolver."""

from __future__ import annotations

import asyncio
import socket

import pytest

from podium.errors import ValidationError
from podium.server.http_targets import (
    CheckedResolver,
    TargetPolicy,
    TargetRefusedError,
    parse_rule,
)
from podium.settings import Settings


def _never_local(address):
    return False


def _allowed(policy: TargetPolicy, address: str, port: int = 443, host: str | None = None):
    return policy.refusal(host or address, port, address) is None


def test_the_default_denies_metadata_link_local_and_multicast_but_not_loopback():
    policy = TargetPolicy(own_port=8080, is_local=_never_local)
    for address in ("169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200", "224.0.0.1"):
        assert not _allowed(policy, address), address
    for address in ("127.0.0.1", "::1", "10.1.2.3", "192.168.1.1", "93.184.216.34"):
        assert _allowed(policy, address), address


def test_ipv6_forms_of_a_denied_ipv4_address_are_denied_too():
    policy = TargetPolicy(strict=True, is_local=_never_local)
    for address in ("::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1"):
        assert not _allowed(TargetPolicy(is_local=_never_local), address), address
    assert not _allowed(policy, "::ffff:127.0.0.1")


def test_strict_mode_denies_loopback_private_ranges_and_this_host():
    policy = TargetPolicy(strict=True, is_local=_never_local)
    for address in ("127.0.0.1", "::1", "0.0.0.0", "10.0.0.1", "172.16.5.4", "192.168.0.9"):
        assert not _allowed(policy, address), address
    assert not _allowed(policy, "fd12::1") and not _allowed(policy, "100.64.0.1")
    assert _allowed(policy, "93.184.216.34") and _allowed(policy, "172.32.0.1")


def test_this_machine_at_the_servers_own_port_is_denied():
    seen = []

    def local(address):
        seen.append(str(address))
        return str(address) == "10.0.0.5"

    policy = TargetPolicy(own_port=8080, is_local=local)
    assert not _allowed(policy, "10.0.0.5", 8080)  # bound to 0.0.0.0: every address reaches it
    assert _allowed(policy, "10.0.0.5", 8081)
    assert _allowed(policy, "10.0.0.6", 8080)
    assert "10.0.0.5" in seen


def test_the_real_local_check_knows_loopback_and_this_machine():
    policy = TargetPolicy(own_port=8080)
    assert not _allowed(policy, "127.0.0.1", 8080)
    assert not _allowed(policy, "127.0.0.2", 8080)
    assert not _allowed(policy, "0.0.0.0", 8080)
    assert _allowed(policy, "127.0.0.1", 8081)
    assert _allowed(policy, "192.0.2.1", 8080)  # TEST-NET-1: never this machine's


def test_the_most_specific_entry_wins_and_deny_wins_a_tie():
    policy = TargetPolicy(
        allow=["10.0.0.0/8", "169.254.170.2", "api.example.com", "[fd00::/8]:443"],
        deny=["10.9.0.0/16", "10.9.9.9:443", "*.example.com", "10.1.1.1", "fd00::/8"],
        is_local=_never_local,
    )
    assert _allowed(policy, "10.2.3.4")
    assert not _allowed(policy, "10.9.1.1")
    assert not _allowed(policy, "10.9.9.9", 443) and not _allowed(policy, "10.9.9.9", 80)
    assert _allowed(policy, "169.254.170.2")  # an explicit entry beats the built-in rules
    assert not _allowed(policy, "169.254.169.254")
    assert _allowed(policy, "93.184.216.34", host="api.example.com")  # a name beats networks
    assert not _allowed(policy, "93.184.216.34", host="www.example.com")
    assert _allowed(policy, "fd00::1", 443) and not _allowed(policy, "fd00::1", 80)


def test_an_allow_only_policy():
    policy = TargetPolicy(allow=["*.partner.example:443"], deny=["*"], is_local=_never_local)
    assert _allowed(policy, "93.184.216.34", 443, host="pay.partner.example")
    assert not _allowed(policy, "93.184.216.34", 80, host="pay.partner.example")
    assert not _allowed(policy, "93.184.216.34", 443, host="partner.example")
    assert not _allowed(policy, "127.0.0.1", 443)


@pytest.mark.parametrize(
    ("entry", "network", "name", "port"),
    [
        ("10.0.0.0/8", "10.0.0.0/8", None, None),
        ("10.1.2.3:8443", "10.1.2.3/32", None, 8443),
        ("::1", "::1/128", None, None),
        ("[fd00::/8]:443", "fd00::/8", None, 443),
        ("API.Example.com.", None, "api.example.com", None),
        ("*.example.com:443", None, ".example.com", 443),
        ("*", None, None, None),
    ],
)
def test_entries_are_read_as_written(entry, network, name, port):
    rule = parse_rule(entry, allow=True, setting="PODIUM_HTTP_TASK_ALLOW")
    assert (str(rule.network) if rule.network else None, rule.name, rule.port) == (
        network,
        name,
        port,
    )


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "host:0", "host:http", "1.2.3", "[::1]x", "a b"])
def test_a_bad_entry_is_refused_naming_the_setting(entry):
    with pytest.raises(ValidationError) as caught:
        TargetPolicy(deny=[entry])
    assert caught.value.field == "PODIUM_HTTP_TASK_DENY"
    assert entry in caught.value.message


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("PODIUM_HTTP_TASK_ALLOW", "10.0.0.0/8, api.example.com:443")
    monkeypatch.setenv("PODIUM_HTTP_TASK_DENY", "10.9.0.0/16")
    monkeypatch.setenv("PODIUM_HTTP_TASK_STRICT", "on")
    settings = Settings.from_env()
    assert settings.http_task_allow == ("10.0.0.0/8", "api.example.com:443")
    assert settings.http_task_deny == ("10.9.0.0/16",)
    assert settings.http_task_strict is True
    assert Settings().http_task_strict is False and Settings().http_task_allow == ()


class _FakeResolver:
    def __init__(self, addresses):
        self.addresses = addresses

    async def resolve(self, host, port=0, family=socket.AF_INET):
        return [
            {"hostname": host, "host": a, "port": port, "family": family, "proto": 0, "flags": 0}
            for a in self.addresses
        ]

    async def close(self):
        pass


def test_a_name_is_refused_if_any_address_it_resolves_to_is_denied():
    policy = TargetPolicy(is_local=_never_local)
    mixed = CheckedResolver(policy, _FakeResolver(["93.184.216.34", "169.254.169.254"]))
    with pytest.raises(TargetRefusedError, match=r"169\.254\.169\.254"):
        asyncio.run(mixed.resolve("rebind.example", 80))
    fine = CheckedResolver(policy, _FakeResolver(["93.184.216.34"]))
    [found] = asyncio.run(fine.resolve("ok.example", 80))
    assert found["host"] == "93.184.216.34"
