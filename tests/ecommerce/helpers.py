"""Helpers for the cart and checkout tests: contracts with codes, learners, CyberSource signing.

The signing here is written from CyberSource's Secure Acceptance documentation (HMAC-SHA256 over
"name=value" pairs of the signed fields, joined by commas, base64), independently of the gateway
library the application uses, so the tests check the application against the processor's rules.
"""

import base64
import hashlib
import hmac
import uuid
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType

from courses.models import CourseRun
from ecommerce.models import Discount, Product
from tests import factories as f
from tests.b2b.codes_helpers import contract_with_products, reconcile

PASSWORD = "a-long-learner-password-42"
SECURITY_KEY = "test-cybersource-security-key-0123456789"
ACCESS_KEY = "test-access-key"
PROFILE_ID = "test-profile-id"


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


def sign(fields: dict[str, str], key: str = SECURITY_KEY) -> str:
    names = fields["signed_field_names"].split(",")
    message = ",".join(f"{name}={fields[name]}" for name in names)
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_is_valid(fields: dict[str, str], key: str = SECURITY_KEY) -> bool:
    return hmac.compare_digest(fields.get("signature", ""), sign(fields, key))


def processor_response(
    request_fields: dict[str, str],
    *,
    decision: str = "ACCEPT",
    message: str = "Request was processed successfully.",
    key: str = SECURITY_KEY,
    **overrides: str,
) -> dict[str, str]:
    """What CyberSource posts back for a request: its fields echoed as req_*, signed."""
    response = {f"req_{name}": value for name, value in request_fields.items()}
    response.pop("req_signature", None)
    response.pop("req_signed_field_names", None)
    response.pop("req_unsigned_field_names", None)
    response.update(
        {
            "decision": decision,
            "message": message,
            "reason_code": "100" if decision == "ACCEPT" else "481",
            "transaction_id": uuid.uuid4().hex[:22] if decision != "CANCEL" else "",
            "auth_amount": request_fields.get("amount", ""),
            "signed_date_time": "2026-01-01T00:00:00Z",
        }
    )
    response.update(overrides)
    response["signed_field_names"] = ",".join([*response, "signed_field_names"])
    response["signature"] = sign(response, key)
    return response
