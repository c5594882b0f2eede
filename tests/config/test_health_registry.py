"""config.health_registry: the apps' health modules are registered once each, in order, and a
report's shared reads are read once."""

import sys
import types
from datetime import UTC, datetime

import pytest

from config import health_registry
from config.health_registry import HealthScope


def test_the_apps_contribute_their_checks_and_repairs():
    assert health_registry.registered() == ["courses.health", "ecommerce.health"]
    assert list(health_registry.registered_checks()) == [
        "openedx-copies",
        "enrollments-not-pushed",
        "code-redeemed-twice",
        "paid-not-fulfilled",
    ]
    assert sorted(health_registry.registered_repairs()) == [
        "openedx-copy-again",
        "openedx-push-again",
    ]


def test_registering_again_changes_nothing():
    health_registry.register("courses.health")
    assert health_registry.registered() == ["courses.health", "ecommerce.health"]


def test_a_name_contributed_twice_is_refused(monkeypatch):
    twin = types.ModuleType("tests.config.twin_health")
    twin.CHECKS = {"paid-not-fulfilled": lambda scope: []}
    monkeypatch.setitem(sys.modules, twin.__name__, twin)
    monkeypatch.setattr(health_registry, "_modules", [*health_registry.registered(), twin.__name__])
    with pytest.raises(ValueError, match="'paid-not-fulfilled' again"):
        health_registry.registered_checks()


def test_a_shared_read_is_read_once_per_scope():
    now = datetime(2030, 1, 1, tzinfo=UTC)
    calls = []

    def read(contract_ids):
        calls.append(contract_ids)
        return ["row"]

    scope = HealthScope(
        contract_ids=[7], now=now, codes_pending_before=now, openedx_pending_before=now
    )
    assert scope.shared(read) == ["row"]
    assert scope.shared(read) == ["row"]
    assert calls == [[7]]
