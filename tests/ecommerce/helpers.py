"""Helpers of the cart and checkout tests: contracts with codes, learners, plain products.

What CyberSource signs and answers is in tests/support/cybersource_server.py.
"""

from decimal import Decimal

from django.contrib.contenttypes.models import ContentType

from courses.models import CourseRun
from ecommerce.models import Discount, Product
from ecommerce.services.checkout import PaymentUrls
from tests.b2b.helpers import contract_with_products, reconcile
from tests.support import factories as f

PASSWORD = "a-long-learner-password-42"


def learner(email: str | None = None, **kwargs):
    user = f.UserFactory(**({"email": email} if email else {}), **kwargs)
    user.set_password(PASSWORD)
    user.save()
    return user


def b2b_product(*, products: int = 1, **terms):
    """A contract with its runs' products and reconciled codes; returns (contract, products)."""
    contract, made = contract_with_products(products=products, **terms)
    reconcile(contract)
    for product in made:
        product.refresh_from_db()
    return contract, made


def code_for(product: Product, **filters) -> Discount:
    return Discount.objects.filter(product_links__product=product, **filters).order_by("pk")[0]


def plain_product(price: str = "50.00") -> Product:
    run = f.CourseRunFactory()
    return Product.objects.create(
        content_type=ContentType.objects.get_for_model(CourseRun),
        object_id=run.pk,
        price=Decimal(price),
        description=run.title,
    )


# Where a test's checkout sends the learner back to (a receipt and a cancel page alike).
PAYMENT_URLS = PaymentUrls(
    receipt_url="http://testserver/checkout/receipt/",
    cancel_url="http://testserver/checkout/receipt/",
)
