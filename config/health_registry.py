"""The health report's registry: how an app adds the checks of its own state to the report.

The report (``b2b.services.health``) is b2b's, but what can go wrong is spread over the apps:
an order paid and never fulfilled is ecommerce's to know, an Open edX copy that failed is
courses'. Rather than b2b reading every app's failure states, each app keeps the checks of its
state in its own ``health`` module and names that module here, from its ``AppConfig.ready()``::

    health_registry.register("courses.health")

The module is imported when a report first runs, not at start-up, so registering costs a
command nothing (a module that talks to Open edX stays unloaded until a report needs it). It
offers two mappings, both optional:

- ``CHECKS``: check name -> a function of the ``HealthScope`` returning ``Finding`` rows;
- ``REPAIRS``: repair name -> a ``Repair``, which ``--fix`` runs for the findings naming it.

This module is neutral ground: it imports no app, so every app may import it (courses, which
builds on no other app, included). It holds what a contribution needs to speak the report's
language: the severity, the finding, the scope of a report and the repair.
"""

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from typing import Any, TypeVar

from django.db import models

T = TypeVar("T")


class HealthSeverity(models.TextChoices):
    """How bad a health report's finding is: an error breaks a rule the system promises (a
    learner over the cap, a payment without its enrollment); a warning is work that is late or
    out of line and that a reconciliation, a retry or a person sets right."""

    ERROR = "error", "Error"
    WARNING = "warning", "Warning"


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, where (a contract, and what in it), what is wrong and
    how a person fixes it; ``repair`` names the repair ``--fix`` may run on ``target``."""

    check: str  # the check's name
    severity: HealthSeverity
    contract_id: int | None
    subject: str  # what in the contract: "contract", a product, a run key, an order
    what: str
    fix: str  # how to fix it
    repair: str | None = None  # a repair's name (``REPAIRS``); None: left for a person
    target: int | str | None = None  # what the repair takes: contract id, run key, run id
    contract_name: str = ""  # set by the report, which knows the contracts; checks leave it

    @property
    def fingerprint(self) -> str:
        """The finding's identity across reports: the same problem keeps it while its numbers
        change (the periodic report mails staff about new fingerprints only)."""
        key = f"{self.check}|{self.contract_id or ''}|{self.subject}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class HealthScope:
    """What one report looks at: the contracts (``contract_ids`` None: all of them and what
    belongs to no contract), the time it runs, and since when pending work counts as late."""

    contract_ids: list[int] | None
    now: datetime
    codes_pending_before: datetime
    openedx_pending_before: datetime
    _shared: dict[Callable[..., Any], Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def shared(self, read: Callable[[list[int] | None], T]) -> T:
        """``read(contract_ids)``, read once per report however many checks ask: checks of
        different apps that need the same rows (a contract's runs) share one query."""
        if read not in self._shared:
            self._shared[read] = read(self.contract_ids)
        return self._shared[read]


@dataclass(frozen=True)
class Repair:
    """What ``--fix`` does for the findings naming it: ``run(target, scope)`` does it once per
    target and says what it did; the exceptions in ``refused_by`` mean it could not be done
    (Open edX not configured, a contract deleted meanwhile) and leave the finding for a person.
    """

    run: Callable[[Any, HealthScope], str]
    refused_by: tuple[type[Exception], ...] = ()


Check = Callable[[HealthScope], list[Finding]]

_modules: list[str] = []  # the registered health modules, in the order they were registered


def register(module: str) -> None:
    """Add an app's health module (a dotted path) to every report; registering it again does
    nothing, so a ``ready()`` that runs twice does no harm."""
    if module not in _modules:
        _modules.append(module)


def registered() -> list[str]:
    """The registered health modules, in the order they were registered."""
    return list(_modules)


def _collect(attribute: str) -> dict[str, Any]:
    collected: dict[str, Any] = {}
    for path in _modules:
        contributed: Mapping[str, Any] = getattr(import_module(path), attribute, {})
        for name, item in contributed.items():
            if name in collected:
                raise ValueError(f"{path} contributes the health {attribute} {name!r} again")
            collected[name] = item
    return collected


def registered_checks() -> dict[str, Check]:
    """Every contributed check by name: the modules in the order they were registered, each
    module's in its own order."""
    return _collect("CHECKS")


def registered_repairs() -> dict[str, Repair]:
    """Every contributed repair by name."""
    return _collect("REPAIRS")


def moment_text(moment: datetime | None) -> str:
    """A moment as findings write it, to the minute ("none" when unknown)."""
    return moment.isoformat(timespec="minutes") if moment else "none"
