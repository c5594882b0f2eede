"""Single sign-on: attach learners to their organizations' free SSO contracts at every sign-in.

The identity provider (Keycloak) lists the learner's organizations in a claim, in one of two
forms: a list of organization aliases, or a map from alias to an object carrying the
organization's id. An organization matches by OrganizationPage.sso_organization_id (the id, or
the alias) or by its org key equal to the alias.
"""

import logging
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from b2b.enums import MembershipSource
from b2b.exceptions import MembershipRefused
from b2b.models import ContractPage, MembershipRefusal, OrganizationPage
from b2b.services.memberships import attach_learner
from config.text import has_nul
from users.models import User

log = logging.getLogger(__name__)


@dataclass
class SsoResult:
    organizations: list[OrganizationPage] = field(default_factory=list)
    attached: list[ContractPage] = field(default_factory=list)
    refused: list[tuple[ContractPage, str]] = field(default_factory=list)


def claim_identifiers(claim: object) -> tuple[set[str], set[str]]:
    """(aliases, ids) named by an organization claim in either Keycloak form; a name with a NUL
    character (which no organization can have) is left out."""
    aliases: set[str] = set()
    ids: set[str] = set()
    if isinstance(claim, str):
        claim = [claim]
    if isinstance(claim, list | tuple):
        aliases.update(str(item) for item in claim if item)
    elif isinstance(claim, dict):
        for alias, details in claim.items():
            aliases.add(str(alias))
            if isinstance(details, dict) and details.get("id"):
                ids.add(str(details["id"]))
    # A name with a NUL character cannot be stored, so it names no organization here.
    return {a for a in aliases if not has_nul(a)}, {i for i in ids if not has_nul(i)}


def organizations_for_claim(claim: object) -> list[OrganizationPage]:
    aliases, ids = claim_identifiers(claim)
    if not aliases and not ids:
        return []
    matches = Q(sso_organization_id__in=ids | aliases) | Q(
        org_key__in={alias.upper() for alias in aliases}
    )
    return list(OrganizationPage.objects.filter(matches).order_by("pk"))


def auto_join_contracts(organization: OrganizationPage) -> QuerySet[ContractPage]:
    """The organization's SSO contracts that learners join by signing in: free, active, in dates.

    Joining each one still goes through ``attach_learner``, which asks ``admission_refusal``
    under the contract's lock (and refuses a full contract).
    """
    return (
        ContractPage.objects.of_organization(organization)
        .sso()
        .free()
        .active()
        .open_on(timezone.localdate())
        .order_by("pk")
    )


def attach_from_claim(*, user: User, claim: object) -> SsoResult:
    """Attach ``user`` to the free SSO contracts of the organizations in ``claim``.

    Memberships are never removed here: a learner whose claim no longer lists an organization
    keeps their contracts until staff remove them.
    """
    result = SsoResult(organizations=organizations_for_claim(claim))
    for organization in result.organizations:
        for contract in auto_join_contracts(organization):
            try:
                attach_learner(user=user, contract_id=contract.pk, source=MembershipSource.SSO)
                result.attached.append(contract)
            except MembershipRefused as exc:
                MembershipRefusal.objects.create(
                    user=user, contract=contract, source=MembershipSource.SSO, reason=str(exc)
                )
                log.warning("SSO sign-in of %s: %s", user.email, exc)
                result.refused.append((contract, str(exc)))
    return result
