"""StoreTx contract: services, breakers, the result cache, API keys and the auth secret,
with the same assertions on SQLite and PostgreSQL."""

from __future__ import annotations


def test_services_are_put_replaced_listed_and_deleted(db):
    assert db.get_service("pay") is None
    db.put_service("pay", {"url": "http://a"}, 1)
    db.put_service("auth", {"url": "http://b"}, 2)
    db.put_service("pay", {"url": "http://c"}, 3)
    assert db.get_service("pay") == {"url": "http://c"}
    assert db.list_services() == [{"url": "http://b"}, {"url": "http://c"}]
    assert db.delete_service("pay") is True
    assert db.delete_service("pay") is False
    assert db.list_services() == [{"url": "http://b"}]


def test_breakers_are_kept_per_service(db):
    assert db.get_breaker("pay") is None
    db.put_breaker("pay", {"state": "open"}, 1)
    db.put_breaker("auth", {"state": "closed"}, 1)
    db.put_breaker("pay", {"state": "half_open"}, 2)
    assert db.get_breaker("pay") == {"state": "half_open"}
    assert db.get_breaker("pay", for_update=True) == {"state": "half_open"}
    assert db.get_breaker("none", for_update=True) is None
    assert db.list_breakers() == {"auth": {"state": "closed"}, "pay": {"state": "half_open"}}


def test_breaker_events_come_newest_first(db):
    db.add_breaker_event("pay", 10, "closed", "open", "5 failures")
    db.add_breaker_event("auth", 15, "closed", "open", "other")
    db.add_breaker_event("pay", 20, "open", "half_open", "cool-down over")
    db.add_breaker_event("pay", 30, "half_open", "closed", "probe passed")
    assert db.breaker_events("pay", 2) == [
        {"at": 30, "from": "half_open", "to": "closed", "reason": "probe passed"},
        {"at": 20, "from": "open", "to": "half_open", "reason": "cool-down over"},
    ]
    assert len(db.breaker_events("pay", 10)) == 3
    assert db.breaker_events("none", 10) == []


def test_a_cached_result_is_served_until_it_expires(db):
    assert db.get_cached_result("k", 0) is None
    db.put_cached_result("k", {"out": 1}, 100)
    assert db.get_cached_result("k", 99) == {"out": 1}
    assert db.get_cached_result("k", 100) is None
    db.put_cached_result("k", {"out": 2}, 200)
    assert db.get_cached_result("k", 150) == {"out": 2}


def test_api_keys_are_kept_listed_and_disabled_once(db):
    assert db.get_api_key("k1") is None
    db.put_api_key("k2", "hash-2", {"scopes": ["admin"]}, 20)
    db.put_api_key("k1", "hash-1", {"scopes": ["read"]}, 10)
    db.put_api_key("k0", "hash-0", {"scopes": []}, 20)
    assert db.get_api_key("k1") == ("hash-1", {"scopes": ["read"]}, None)
    assert db.list_api_keys() == [
        ("k1", {"scopes": ["read"]}, 10, None),
        ("k0", {"scopes": []}, 20, None),
        ("k2", {"scopes": ["admin"]}, 20, None),
    ]
    assert db.disable_api_key("k1", 30) is True
    assert db.disable_api_key("k1", 40) is False
    assert db.disable_api_key("none", 40) is False
    assert db.get_api_key("k1") == ("hash-1", {"scopes": ["read"]}, 30)


def test_the_first_auth_secret_stands(db):
    assert db.auth_secret("first") == "first"
    assert db.auth_secret("second") == "first"
