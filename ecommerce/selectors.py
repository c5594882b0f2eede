"""Read queries of the cart, orders and dashboard, with their joins; a fixed number of queries each.

Every query that returns a learner's data is filtered by that learner: one learner never sees
another's cart or orders.
"""

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Prefetch

from courses.models import CourseRun, CourseRunEnrollment
from ecommerce.enums import OrderState
from ecommerce.models import Basket, BasketItem, DiscountRedemption, Line, Order, Product
from users.models import User


def code_redeemed(discount_ref: str = "pk") -> Exists:
    """Whether the discount code referred to by ``discount_ref`` has been redeemed at least
    once; for ``filter`` and ``annotate`` on querysets of codes or of their product links."""
    return Exists(DiscountRedemption.objects.filter(discount_id=OuterRef(discount_ref)))


def runs_by_product(products: Iterable[Product]) -> dict[int, CourseRun]:
    """Product id -> the course run it sells (with course and contract), in one query."""
    products = list(products)
    run_type = ContentType.objects.get_for_model(CourseRun)
    run_ids = {p.object_id for p in products if p.content_type_id == run_type.pk}
    runs = CourseRun.objects.select_related("course", "b2b_contract").in_bulk(run_ids)
    return {
        p.pk: runs[p.object_id]
        for p in products
        if p.content_type_id == run_type.pk and p.object_id in runs
    }


def basket_of(user: User) -> Basket | None:
    return Basket.objects.filter(user=user).first()


def basket_items(basket: Basket) -> list[BasketItem]:
    return list(basket.items.select_related("product").order_by("pk"))


def active_product(product_id: int) -> Product | None:
    return Product.objects.filter(pk=product_id, is_active=True).first()


def orders_of(user: User):
    """The learner's orders, newest first, with their lines and products."""
    return (
        Order.objects.filter(purchaser=user)
        .select_related("discount")
        .prefetch_related(
            Prefetch("lines", queryset=Line.objects.select_related("product").order_by("pk"))
        )
        .order_by("-created_on", "-pk")
    )


def order_of(user: User, order_id: int) -> Order | None:
    """One of the learner's orders; None for an order that is not theirs or does not exist."""
    return (
        orders_of(user).prefetch_related("transactions", "redemptions").filter(pk=order_id).first()
    )


def order_rows(order: Order) -> list[dict]:
    """The order's lines with the title and id of the course run each one bought."""
    lines = list(order.lines.all())
    runs = runs_by_product(line.product for line in lines)
    rows = []
    for line in lines:
        run = runs.get(line.product_id)
        rows.append(
            {
                "line": line,
                "title": run.title if run else (line.product.description or str(line.product)),
                "courseware_id": run.courseware_id if run else "",
            }
        )
    return rows


def enrollments_of(user: User) -> list[CourseRunEnrollment]:
    """The learner's active enrollments, B2B runs included, newest first."""
    return list(
        CourseRunEnrollment.objects.filter(user=user, active=True)
        .select_related("run__course", "run__b2b_contract")
        .order_by("-created_on", "-pk")
    )


def contract_runs_not_enrolled(user: User, contract_ids: list[int]) -> list[CourseRun]:
    """Live runs of these contracts the learner has no active enrollment in."""
    enrolled = CourseRunEnrollment.objects.filter(user=user, run_id=OuterRef("pk"), active=True)
    return list(
        CourseRun.objects.filter(b2b_contract_id__in=contract_ids, live=True)
        .filter(~Exists(enrolled))
        .select_related("course", "b2b_contract")
        .order_by("b2b_contract_id", "title", "pk")
    )


def pending_holds(discount_id: int, *, since, exclude_user: User | None = None):
    """Recent pending orders that hold this code (a payment may still come back for them)."""
    holds = Order.objects.filter(discount_id=discount_id, state=OrderState.PENDING)
    holds = holds.filter(created_on__gte=since)
    if exclude_user is not None:
        holds = holds.exclude(purchaser=exclude_user)
    return holds
