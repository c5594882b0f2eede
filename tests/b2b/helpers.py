"""Helpers of the b2b tests: contracts with runs, products and codes, code counts, Wagtail's edit
form, invitations and their stalled work, the manager pages' capped contracts and the failure
they meet half way, and a reconciliation left pending."""

import secrets
from datetime import timedelta
from decimal import Decimal

from bs4 import BeautifulSoup
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, F, OuterRef
from django.urls import reverse
from django.utils import timezone

from b2b.models import ContractCodeStatus, Invitation, InvitationEmail, InviteJob
from b2b.services.codes.reconcile import reconcile_contract_codes
from b2b.services.contracts.terms import ContractChange, modify_contract
from courses.models import CourseRun
from ecommerce.models import Discount, DiscountProduct, DiscountRedemption, Product
from ecommerce.selectors import with_code_terms
from ecommerce.services.contract_codes.reads import contract_code_census
from tests.support import factories as f
from tests.support.forms import BrowserForm


def contract_with_products(*, products=2, **terms):
    contract = f.ContractPageFactory(**terms)
    made = []
    for _ in range(products):
        run = f.CourseRunFactory(b2b_contract=contract, run_tag="2026_C1")
        made.append(
            Product.objects.create(
                content_type=ContentType.objects.get_for_model(CourseRun),
                object_id=run.pk,
                price=contract.price,
            )
        )
    return contract, made


def reconcile(contract):
    return reconcile_contract_codes(contract_id=contract.pk, force=True).plan


def change(contract, **values):
    modify_contract(contract_id=contract.pk, change=ContractChange(**values))
    contract.refresh_from_db()
    return reconcile(contract)


def codes(product, **filters):
    """The product's codes, each with the ``price`` and dates it is used at."""
    return with_code_terms(Discount.objects.filter(product_links__product=product, **filters))


def redeemed_filter():
    return Exists(DiscountRedemption.objects.filter(discount_id=OuterRef("pk")))


def usable(product):
    return codes(product, is_active=True).filter(~redeemed_filter())


def redeem(code, user=None):
    order = f.OrderFactory(purchaser=user or f.UserFactory(), state="fulfilled")
    return DiscountRedemption.objects.create(
        discount=code, redeemed_by=order.purchaser, redeemed_order=order
    )


def summary(product):
    """(usable one-time, usable unlimited, inactive unredeemed, redeemed) codes of a product."""
    unredeemed = codes(product).filter(~redeemed_filter())
    return (
        unredeemed.filter(is_active=True, redemption_type="one-time").count(),
        unredeemed.filter(is_active=True, redemption_type="unlimited").count(),
        unredeemed.filter(is_active=False).count(),
        codes(product).filter(redeemed_filter()).count(),
    )


ZERO = Decimal("0.00")


# A code's state as the census counts it (ecommerce.ContractCodeCensus).
CODE_STATE = ("product_id", "is_active", "redeemed", "redemption_type")


def counted_states(contract) -> set[tuple]:
    """The contract's codes grouped by state, counted from the code tables: (*CODE_STATE, n)."""
    rows = (
        DiscountProduct.objects.filter(discount__b2b_contract=contract)
        .annotate(
            redeemed=Exists(DiscountRedemption.objects.filter(discount_id=OuterRef("discount_id")))
        )
        .values(
            "product_id",
            "redeemed",
            is_active=F("discount__is_active"),
            redemption_type=F("discount__redemption_type"),
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {(*(row[k] for k in CODE_STATE), row["n"]) for row in rows}


def census_states(contract) -> set[tuple]:
    """The same, as the census has it (PostgreSQL only: triggers keep it)."""
    return {
        (*(getattr(group, k) for k in CODE_STATE), group.codes)
        for group in contract_code_census(contract.pk)
    }


def publish_in_wagtail(staff_client, page, **changes):
    """Open the page's edit form in Wagtail, change fields as an editor would, and publish."""
    url = reverse("wagtailadmin_pages:edit", args=[page.pk])
    form = BrowserForm(staff_client.get(url).content.decode(), form_id="page-edit-form")
    data = form.data()
    for name, value in changes.items():
        assert name in form.names(), name
        data[name] = [value]
    data["action-publish"] = ["action-publish"]
    return staff_client.post(url, data)


def field_errors(response) -> list[str]:
    """The errors Wagtail shows under the edit form's fields."""
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    return [" ".join(e.get_text(" ").split()) for e in soup.select(".error-message")]


# Invitations


def contract_with_codes(*, products=1, **terms):
    """A contract with ``products`` runs for sale and its codes made (reconciled)."""
    terms.setdefault("enrollment_fixed_price", "10.00")
    contract, made = contract_with_products(products=products, **terms)
    contract.refresh_from_db()
    reconcile(contract)
    return contract, made


def emails_of(contract, **filters):
    return sorted(
        Invitation.objects.filter(contract=contract, **filters).values_list("email", flat=True)
    )


def stall_invitation_work(contract, *, jobs=1, emails=1, minutes=60):
    """Invite jobs and invitation e-mails of ``contract`` queued ``minutes`` ago and never
    picked up (as when the broker refused them); returns (jobs, e-mails)."""
    then = timezone.now() - timedelta(minutes=minutes)
    made_jobs = [InviteJob.objects.create(contract=contract, rows=0) for _ in range(jobs)]
    InviteJob.objects.filter(pk__in=[j.pk for j in made_jobs]).update(
        created_on=then, queued_on=then
    )
    made_emails = []
    for _ in range(emails):
        invitation = Invitation.objects.create(
            contract=contract,
            email=f"stalled-{secrets.token_hex(4)}@example.com",
            token=secrets.token_urlsafe(32),
        )
        made_emails.append(
            InvitationEmail.objects.create(
                invitation=invitation, kind="invitation", to=invitation.email
            )
        )
    InvitationEmail.objects.filter(pk__in=[e.pk for e in made_emails]).update(
        queued_on=then, updated_on=then
    )
    return made_jobs, made_emails


# The manager pages and API


def capped_contract(org, *, cap=10, title="Leadership 2026"):
    """A contract of ``org`` under a cap, with one run for sale and its codes made."""
    contract, _products = contract_with_products(
        products=1, parent=org, max_learners=cap, title=title
    )
    reconcile(contract)
    return contract


FAIL_ON = "crash@acme.example"


# A real failure half way: the database refuses to store the invitation of FAIL_ON. The same
# trigger in each database's dialect, so the tests run on PostgreSQL and on the embedded SQLite.
# Each is (create, drop); the ``failing_insert`` fixture (tests/b2b/manage/conftest.py) runs them.
REFUSE = {
    "postgresql": (
        f"""
        CREATE FUNCTION test_refuse_invitation() RETURNS trigger AS $$
        BEGIN
          IF NEW.email = '{FAIL_ON}' THEN RAISE EXCEPTION 'the server went away'; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql;
        CREATE TRIGGER test_refuse_invitation BEFORE INSERT ON b2b_invitation
          FOR EACH ROW EXECUTE FUNCTION test_refuse_invitation();
        """,
        "DROP TRIGGER test_refuse_invitation ON b2b_invitation;"
        "DROP FUNCTION test_refuse_invitation();",
    ),
    "sqlite": (
        f"""
        CREATE TRIGGER test_refuse_invitation BEFORE INSERT ON b2b_invitation
          FOR EACH ROW WHEN NEW.email = '{FAIL_ON}'
          BEGIN SELECT RAISE(ABORT, 'the server went away'); END;
        """,
        "DROP TRIGGER test_refuse_invitation;",
    ),
}


# Code reconciliation


def left_pending(contract, *, minutes_ago: int, error: str = "") -> None:
    """A reconciliation was requested ``minutes_ago`` and never ran (its message was lost)."""
    ContractCodeStatus.objects.get_or_create(contract=contract)
    ContractCodeStatus.objects.filter(pk=contract.pk).update(
        requested_version=F("reconciled_version") + 1,
        pending_since=timezone.now() - timedelta(minutes=minutes_ago),
        last_error=error,
    )
