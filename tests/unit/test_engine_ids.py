"""Derived ids are RFC 4122 version-5 UUIDs, so ids made before and after any change agree."""

from __future__ import annotations

import uuid

import pytest

from podium.engine.state import _ID_NAMESPACE, derive_id


@pytest.mark.parametrize(
    ("parent", "salt"),
    [("run-1", "s0"), ("0f3a9c1e-aaaa-bbbb-cccc-123456789abc", "loop__2__3"), ("é", "ü/x")],
)
def test_derive_id_is_uuid5_of_parent_and_salt(parent: str, salt: str) -> None:
    derived = derive_id(parent, salt)
    assert derived == str(uuid.uuid5(_ID_NAMESPACE, f"{parent}/{salt}"))
    assert uuid.UUID(derived).version == 5
