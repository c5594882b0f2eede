"""Moving a contract to another installation: a versioned JSON description, and its import.

The description names everything by what stays the same across installations: the organization
by name, key and SSO organization id; the courseware by readable id; the contract it renews by
name (a renewal belongs to the same organization). Ids and codes do not travel: the import
makes a new contract, with new runs copied in Open edX and new codes, as ``b2b_contract create``
and ``courseware`` would (the same services).

Version 1::

    {"format": "b2b-contract", "version": 1,
     "organization": {"name", "org_key", "sso_organization_id", "description"},
     "contract": {"name", "description", "integration_type", "start", "end", "active",
                  "max_learners", "price", "renews"},
     "courseware": {"programs": [...], "courses": [...], "courses_with_runs": [...]}}

Dates are ISO (``YYYY-MM-DD``) or null, the price a decimal string or null (free), the cap a
whole number or null (no cap), ``renews`` a contract name or null.
"""

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from b2b.enums import IntegrationType
from b2b.exceptions import ContractFileError, OrganizationConflict
from b2b.models import ContractPage, OrganizationPage
from b2b.services.audit import record
from b2b.services.contracts.terms import (
    ContractChange,
    contract_named,
    create_contract,
    get_contract,
    modify_contract,
)
from b2b.services.courseware import CoursewareResult, add_courseware_set, courseware_set
from b2b.services.organizations.changes import OrganizationChange, update_organization
from b2b.services.organizations.create import create_organization, lock_organizations_index
from config.text import refuse_nul
from courses.models import Course, Program

FORMAT = "b2b-contract"
VERSION = 1
# The largest price the column holds (10 digits, 2 of them decimals).
MAX_PRICE = Decimal("99999999.99")


@dataclass(frozen=True)
class OrganizationDescription:
    name: str
    org_key: str
    sso_organization_id: str | None
    description: str


@dataclass(frozen=True)
class ContractDescription:
    organization: OrganizationDescription
    name: str
    description: str
    integration_type: str
    start: date | None
    end: date | None
    active: bool
    max_learners: int | None
    price: Decimal | None
    renews: str | None  # the name of the contract it renews, in the same organization
    programs: tuple[str, ...]
    courses: tuple[str, ...]
    courses_with_runs: tuple[str, ...]  # the courses the contract has a run of


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def describe_contract(contract_id: int) -> dict[str, Any]:
    """The contract's description (version ``VERSION``), ready for ``json.dumps``."""
    contract = get_contract(contract_id)
    organization = contract.organization
    programs, courses, run_courses = courseware_set(contract)
    renews = contract.renews
    price = contract.enrollment_fixed_price
    return {
        "format": FORMAT,
        "version": VERSION,
        "organization": {
            "name": organization.title,
            "org_key": organization.org_key,
            "sso_organization_id": organization.sso_organization_id,
            "description": organization.description,
        },
        "contract": {
            "name": contract.title,
            "description": contract.description,
            "integration_type": contract.integration_type,
            "start": _iso(contract.contract_start),
            "end": _iso(contract.contract_end),
            "active": contract.active,
            "max_learners": contract.max_learners,
            "price": str(price) if price is not None else None,
            "renews": renews.title if renews is not None else None,
        },
        "courseware": {
            "programs": [program.readable_id for program in programs],
            "courses": [course.readable_id for course in courses],
            "courses_with_runs": [course.readable_id for course in run_courses],
        },
    }


class _Section:
    """Reads the fields of one object of the file, each refused with a one-line reason."""

    def __init__(self, data: Any, name: str):
        if not isinstance(data, dict):
            raise ContractFileError(f"the file's {name!r} must be an object")
        self.data, self.name = data, name

    def _value(self, key: str) -> Any:
        if key not in self.data:
            raise ContractFileError(f"the file has no {self.name}.{key}")
        return self.data[key]

    def _wrong(self, key: str, expected: str) -> ContractFileError:
        return ContractFileError(
            f"{self.name}.{key} must be {expected}, not {json.dumps(self.data[key])[:60]}"
        )

    def _no_nul(self, key: str, value: str) -> str:
        try:
            return refuse_nul(value, what=f"{self.name}.{key}")
        except ValueError as exc:
            raise ContractFileError(str(exc)) from None

    def text(self, key: str, *, empty: bool = True) -> str:
        value = self._value(key)
        if not isinstance(value, str) or (not empty and not value.strip()):
            raise self._wrong(key, "text" if empty else "a non-empty text")
        return self._no_nul(key, value)

    def optional_text(self, key: str) -> str | None:
        return None if self._value(key) is None else self.text(key, empty=False)

    def flag(self, key: str) -> bool:
        value = self._value(key)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false")
        return value

    def day(self, key: str) -> date | None:
        value = self._value(key)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self._wrong(key, "a date (YYYY-MM-DD) or null")

    def cap(self, key: str) -> int | None:
        value = self._value(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self._wrong(key, "a whole number of at least 1, or null")
        return value

    def price(self, key: str) -> Decimal | None:
        value = self._value(key)
        if value is None:
            return None
        try:
            amount = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or not 0 <= amount <= MAX_PRICE:
            raise self._wrong(key, f'an amount from "0" to "{MAX_PRICE}", or null')
        if amount != amount.quantize(Decimal("0.01")):
            raise self._wrong(key, "an amount in cents (at most two decimal places)")
        return amount.quantize(Decimal("0.01"))

    def ids(self, key: str) -> tuple[str, ...]:
        value = self._value(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(key, "a list of readable ids")
        return tuple(self._no_nul(key, item).strip() for item in value)


def read_description(text: str) -> ContractDescription:
    """The description in ``text``; raises ContractFileError (one line) when it is not JSON,
    not a contract description, of another version, nested too deeply, or has a field of the
    wrong kind or a text with a NUL character (which the database cannot store)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContractFileError(
            f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise ContractFileError("not JSON: nested too deeply") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ContractFileError(f'not a contract description (no "format": "{FORMAT}")')
    version = data.get("version")
    if version != VERSION:
        raise ContractFileError(
            f"unsupported version {json.dumps(version)}: this installation reads version {VERSION}"
        )
    org = _Section(data.get("organization"), "organization")
    terms = _Section(data.get("contract"), "contract")
    courseware = _Section(data.get("courseware"), "courseware")
    integration_type = terms.text("integration_type")
    if integration_type not in IntegrationType.values:
        raise ContractFileError(
            f"contract.integration_type must be one of {', '.join(IntegrationType.values)}"
        )
    return ContractDescription(
        organization=OrganizationDescription(
            name=org.text("name", empty=False).strip(),
            org_key=org.text("org_key", empty=False).strip(),
            sso_organization_id=org.optional_text("sso_organization_id"),
            description=org.text("description"),
        ),
        name=terms.text("name", empty=False).strip(),
        description=terms.text("description"),
        integration_type=integration_type,
        start=terms.day("start"),
        end=terms.day("end"),
        active=terms.flag("active"),
        max_learners=terms.cap("max_learners"),
        price=terms.price("price"),
        renews=terms.optional_text("renews"),
        programs=courseware.ids("programs"),
        courses=courseware.ids("courses"),
        courses_with_runs=courseware.ids("courses_with_runs"),
    )


@dataclass(frozen=True)
class ImportedContract:
    contract: ContractPage
    organization: OrganizationPage
    organization_created: bool
    courseware: CoursewareResult
    renews: ContractPage | None
    renews_missing: str | None  # the renewed contract's name, when it is not here


def _found_courseware(
    description: ContractDescription,
) -> tuple[list[Program], list[Course], list[Course]]:
    """The description's programs and courses here, in its order (two queries); raises
    ContractFileError naming every readable id this installation does not have."""
    course_ids = {*description.courses, *description.courses_with_runs}
    programs = {
        p.readable_id: p for p in Program.objects.filter(readable_id__in=description.programs)
    }
    courses = {c.readable_id: c for c in Course.objects.filter(readable_id__in=course_ids)}
    wanted = [*description.programs, *description.courses, *description.courses_with_runs]
    missing = [
        readable_id
        for readable_id in dict.fromkeys(wanted)
        if readable_id not in programs and readable_id not in courses
    ]
    if missing:
        raise ContractFileError(
            f"{len(missing)} courseware id{'s are' if len(missing) > 1 else ' is'} not on this "
            f"installation: {', '.join(missing)}"
        )
    return (
        [programs[readable_id] for readable_id in description.programs],
        [courses[readable_id] for readable_id in description.courses],
        [courses[readable_id] for readable_id in description.courses_with_runs],
    )


def _organization(wanted: OrganizationDescription) -> tuple[OrganizationPage, bool]:
    """The organization of that name here, or a new one with the key, SSO id and description of
    the file. An organization found by name is used as it is, but for an SSO id it lacks;
    raises OrganizationConflict when its SSO id is another one."""
    lock_organizations_index()  # creations and renames of organizations queue here
    found = OrganizationPage.objects.named(wanted.name).first()
    sso_id = wanted.sso_organization_id
    if found is not None:
        if sso_id and found.sso_organization_id not in (None, sso_id):
            raise OrganizationConflict(
                f"Organization {found.title!r} has SSO organization id "
                f"{found.sso_organization_id!r} here, not {sso_id!r}"
            )
        if sso_id and found.sso_organization_id is None:
            found = update_organization(
                organization_id=found.pk, change=OrganizationChange(sso_organization_id=sso_id)
            )
        return found, False
    created = create_organization(name=wanted.name, org_key=wanted.org_key)
    change = OrganizationChange(sso_organization_id=sso_id, description=wanted.description or None)
    if change.sso_organization_id or change.description:
        created = update_organization(organization_id=created.pk, change=change)
    return created, True


@transaction.atomic
def import_contract(description: ContractDescription) -> ImportedContract:
    """Recreate the described contract here, all or nothing: its organization (found by name,
    or created), the contract (the same-name rule refuses a clash), its courseware with new runs
    and products, and its link to the contract it renews when that one is here.

    Raises ContractFileError (unknown courseware), OrganizationConflict, DuplicateContract,
    InvalidContractTerms, NoSourceRun and the other errors of the services it calls.
    """
    programs, courses, run_courses = _found_courseware(description)
    organization, organization_created = _organization(description.organization)
    renews = (
        contract_named(parent=organization, name=description.renews) if description.renews else None
    )
    created = create_contract(
        organization=organization,
        name=description.name,
        integration_type=description.integration_type,
        contract_start=description.start,
        contract_end=description.end,
        max_learners=description.max_learners,
        enrollment_fixed_price=description.price,
        description=description.description,
        renews=renews,
    )
    contract = created.contract
    courseware = add_courseware_set(
        contract_id=contract.pk, programs=programs, courses=courses, run_courses=run_courses
    )
    if not description.active:
        contract = modify_contract(
            contract_id=contract.pk, change=ContractChange(active=False)
        ).contract
    record(contract, "b2b.contract.import", details={"format_version": VERSION})
    return ImportedContract(
        contract=contract,
        organization=organization,
        organization_created=organization_created,
        courseware=courseware,
        renews=renews,
        renews_missing=description.renews if description.renews and renews is None else None,
    )
