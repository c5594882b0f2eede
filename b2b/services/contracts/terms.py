"""Creating and modifying contracts (Wagtail pages under their organization)."""

from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from wagtail.models import Page

from b2b.enums import IntegrationType
from b2b.exceptions import ContractNotFound, DuplicateContract, InvalidContractTerms
from b2b.models import ContractPage, OrganizationPage
from b2b.naming import name_too_long
from b2b.services.audit import fields_of, record_change, record_creation
from b2b.services.codes.bound import check_code_bound
from b2b.services.codes.reconcile import request_code_reconciliation
from b2b.services.locking import lock_for_change, lock_organization
from b2b.services.memberships import cap_refusal
from b2b.services.organizations.create import unique_child_slug
from b2b.services.publishing import give_live_revision, publishing_by_service
from b2b.validators import contract_terms_errors
from users.models import User


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True)
class ContractChange:
    """What ``modify_contract`` should change; fields left UNSET stay as they are.

    ``None`` removes a value (the date, the cap, the price).
    """

    contract_start: date | None = UNSET
    contract_end: date | None = UNSET
    max_learners: int | None = UNSET
    enrollment_fixed_price: Decimal | None = UNSET
    active: bool = UNSET
    description: str = UNSET

    def as_dict(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) is not UNSET
        }


@dataclass(frozen=True)
class CreatedContract:
    contract: ContractPage
    organization: OrganizationPage


@dataclass
class ModifiedContract:
    contract: ContractPage
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    reconciliation_requested: bool = False  # the contract's codes are reconciled after commit


def get_contract(contract_id: int, *, for_update: bool = False) -> ContractPage:
    """The contract; ``for_update`` locks it and its code status for a change until the
    transaction ends (``b2b.services.locking.lock_for_change``)."""
    if for_update:
        return lock_for_change(contract_id)
    try:
        return ContractPage.objects.get(pk=contract_id)
    except ContractPage.DoesNotExist:
        raise ContractNotFound(f"No contract has id {contract_id}") from None


def contract_named(
    *, parent: Page, name: str, exclude_id: int | None = None
) -> ContractPage | None:
    """The contract under ``parent`` (an organization) already named ``name``, other than
    ``exclude_id``: the one rule behind every path that names a contract (the command line,
    Wagtail's create, edit, copy and move)."""
    contracts = ContractPage.objects.under_page(parent.path, parent.depth).named(name)
    if exclude_id is not None:
        contracts = contracts.exclude(pk=exclude_id)
    return contracts.first()


def duplicate_name_message(organization: OrganizationPage, existing: ContractPage) -> str:
    return (
        f"Organization {organization.title!r} already has a contract named "
        f"{existing.title!r} (id {existing.pk})"
    )


def check_terms(
    *, start: date | None, end: date | None, max_learners: int | None, price: Decimal | None
) -> None:
    errors = contract_terms_errors(
        start_date=start, end_date=end, max_learners=max_learners, price=price
    )
    if errors:
        raise InvalidContractTerms(" ".join(errors.values()))


@transaction.atomic
def create_contract(
    *,
    organization: OrganizationPage,
    name: str,
    integration_type: str,
    contract_start: date | None = None,
    contract_end: date | None = None,
    max_learners: int | None = None,
    enrollment_fixed_price: Decimal | None = None,
    description: str = "",
    by: User | None = None,
    renews: ContractPage | None = None,
) -> CreatedContract:
    """Create a contract under ``organization`` and request its codes; ``renews`` is the
    contract it renews, if any (``b2b.services.contracts.renewal``).

    Raises DuplicateContract when the organization already has a contract of that name (the
    organization is locked first, so two creations of one name cannot both pass the check).
    """
    if integration_type not in IntegrationType.values:
        raise InvalidContractTerms(
            f"Unknown integration type {integration_type!r}: use sso or non-sso"
        )
    name = name.strip()
    if not name:
        raise InvalidContractTerms("The contract name must not be empty")
    if problem := name_too_long(name, what="contract"):
        raise InvalidContractTerms(problem)
    check_terms(
        start=contract_start,
        end=contract_end,
        max_learners=max_learners,
        price=enrollment_fixed_price,
    )
    organization = lock_organization(organization.pk)
    existing = contract_named(parent=organization, name=name)
    if existing is not None:
        raise DuplicateContract(duplicate_name_message(organization, existing))
    contract = ContractPage(
        title=name,
        slug=unique_child_slug(organization, name),
        description=description,
        integration_type=integration_type,
        contract_start=contract_start,
        contract_end=contract_end,
        max_learners=max_learners,
        enrollment_fixed_price=enrollment_fixed_price,
        active=True,
        renews=renews,
        owner=by,  # who made it (a staff user through the API; None from the command line)
    )
    check_code_bound(contract=contract, products=0)  # no runs yet
    contract = organization.add_child(instance=contract)
    give_live_revision(contract)  # live from the start, as Wagtail's history should know
    record_creation(contract, "b2b.contract.create")
    request_code_reconciliation(contract.pk)
    return CreatedContract(contract=contract, organization=organization)


@transaction.atomic
def modify_contract(
    *, contract_id: int, change: ContractChange, by: User | None = None
) -> ModifiedContract:
    """Apply ``change`` to the contract and publish it as a new revision, by ``by`` (the staff
    user of an API call, shown in Wagtail's history; None from the command line).

    Any change other than a lone deactivation queues the code reconciliation after commit.
    """
    contract = get_contract(contract_id, for_update=True)
    requested = change.as_dict()
    diff = {
        name: (getattr(contract, name), value)
        for name, value in requested.items()
        if getattr(contract, name) != value
    }
    result = ModifiedContract(contract=contract, changes=diff)
    if not diff:
        return result
    before = fields_of(contract)
    for name, (_, new) in diff.items():
        setattr(contract, name, new)
    check_terms(
        start=contract.contract_start,
        end=contract.contract_end,
        max_learners=contract.max_learners,
        price=contract.enrollment_fixed_price,
    )
    check_code_bound(contract=contract)
    if "max_learners" in diff and (refusal := cap_refusal(contract, cap=contract.max_learners)):
        raise InvalidContractTerms(refusal)
    publish_contract(contract, by=by)
    record_change(contract, "b2b.contract.change", before=before)
    deactivation_only = set(diff) == {"active"} and contract.active is False
    if not deactivation_only:
        request_code_reconciliation(contract.pk)
        result.reconciliation_requested = True
    return result


def publish_contract(contract: ContractPage, *, by: User | None = None) -> None:
    """Save the contract as a new published revision, so Wagtail's editor sees the change; the
    revision and the publish are recorded as ``by``'s when given."""
    revision = contract.save_revision(user=by, clean=False)
    # The entry point authorized the change (staff on the API, an operator at the terminal);
    # Wagtail's page permissions are for its own editor. The caller records the change and
    # requests the reconciliation (b2b.services.publishing).
    with publishing_by_service(contract.pk):
        revision.publish(user=by, skip_permission_checks=True)
    contract.refresh_from_db()
