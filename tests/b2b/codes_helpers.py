"""Helpers for enrollment-code tests: a contract with runs and products, and code counts."""

from decimal import Decimal

from bs4 import BeautifulSoup
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, F, OuterRef
from django.urls import reverse

from b2b.services.codes.reconcile import reconcile_contract_codes
from b2b.services.contracts.terms import ContractChange, modify_contract
from courses.models import CourseRun
from ecommerce.models import Discount, DiscountProduct, DiscountRedemption, Product
from ecommerce.selectors import with_code_terms
from ecommerce.services.contract_codes.reads import contract_code_census
from tests import factories as f
from tests.html_forms import BrowserForm


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
