"""Domain errors of the cart, codes, checkout and payments.

Each error carries one sentence a learner can read and act on (``str(error)``); views show it as
it is. Nothing was changed when one of these is raised.
"""

from b2b.enums import AdmissionRefusal
from config.errors import DomainError
from config.throttling import describe_wait


class EcommerceError(DomainError):
    """Base class. ``default_message`` is used when no message is given."""

    default_message = "This request could not be completed."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self)


# Products


class ProductUnavailable(EcommerceError):
    default_message = "This product does not exist or is no longer available."


class ProductPriceInvalid(EcommerceError):
    default_message = "The price must be an amount of 0 or more."


# Enrollment (discount) codes: every refusal has its own message.


class CodeRefused(EcommerceError):
    default_message = "This code cannot be used."


class CodeNotFound(CodeRefused):
    http_status = 404
    default_message = "This code does not exist. Check it and try again."


class CodeInactive(CodeRefused):
    http_status = 404
    default_message = "This code has been deactivated."


class CodeNotYetValid(CodeRefused):
    default_message = "This code is not valid yet."


class CodeExpired(CodeRefused):
    default_message = "This code has expired."


class CodeNotForCart(CodeRefused):
    default_message = "This code is not valid for the course in your cart."


class CodeForAnotherContract(CodeRefused):
    default_message = "This code belongs to another organization's contract."


class ContractInactive(CodeRefused):
    default_message = "The contract this code belongs to is no longer active."


class ContractOutsideDates(CodeRefused):
    default_message = "The contract this code belongs to is not open at this date."


class CodeAlreadyRedeemed(CodeRefused):
    default_message = "This code has already been used."


class CodeInUse(CodeRefused):
    default_message = (
        "This code is being used in another checkout right now. Try again later, or use "
        "another code."
    )


class ContractFull(CodeRefused):
    default_message = "The contract this code belongs to has reached its number of learners."


class CodeWithoutContract(CodeRefused):
    http_status = 404
    default_message = "This code does not belong to an organization's contract."


class ContractPriced(EcommerceError):
    """The code's contract has a price: the learner joins by checking out, not with the code
    alone. ``product_urls`` put the code's courses in the cart."""

    default_message = (
        "This contract has a price: add the course to your cart and check out with this code."
    )

    def __init__(self, message: str | None = None, *, product_urls: tuple[str, ...] = ()):
        super().__init__(message)
        self.product_urls = product_urls

    def api_details(self) -> dict[str, object]:
        return {"product_urls": list(self.product_urls)} if self.product_urls else {}


# Checkout


class CheckoutRefused(EcommerceError):
    default_message = "Checkout could not be completed."


class EmptyBasket(CheckoutRefused):
    default_message = "Your cart is empty."


class CodeRequired(CheckoutRefused):
    default_message = "This course is offered through an organization: apply your enrollment code."


class ContractClosed(CheckoutRefused):
    """A member checks out a course of their contract without a code while the contract is not
    open (inactive, or outside its dates); ``messages`` words each reason."""

    messages = {
        AdmissionRefusal.INACTIVE: "Your organization's contract is not active.",
        AdmissionRefusal.OUTSIDE_DATES: "Your organization's contract is not open at this date.",
    }
    default_message = messages[AdmissionRefusal.INACTIVE]

    def __init__(self, reason: AdmissionRefusal):
        super().__init__(self.messages.get(reason, self.default_message))
        self.reason = reason


class ContractRefused(CheckoutRefused):
    """The contract refused the learner at fulfilment (full, inactive or outside its dates)."""

    default_message = "The organization's contract cannot take you in. Nothing was changed."


# Payments


class PaymentError(EcommerceError):
    default_message = "The payment could not be processed."


class PaymentNotConfigured(PaymentError):
    default_message = "Payments are not available right now. Please try again later."


class InvalidPaymentResponse(PaymentError):
    """The payment processor's response is not signed with our key (or is malformed)."""

    default_message = "The payment response could not be verified."


class OrderNotFound(PaymentError):
    default_message = "No order matches this payment response."


# Enrolling from the dashboard


class EnrollmentRefused(EcommerceError):
    """``reason`` is the contract's refusal (None: no such run); ``product_urls`` put a priced
    run in the cart."""

    default_message = "You cannot enroll in this course run."

    def __init__(
        self,
        message: str | None = None,
        *,
        reason: AdmissionRefusal | None = None,
        product_urls: tuple[str, ...] = (),
    ):
        super().__init__(message)
        self.reason = reason
        self.product_urls = product_urls

    @property
    def http_status(self) -> int:  # type: ignore[override]
        """Who may not join is forbidden (403), a run that does not exist unknown (404), any
        other refusal a conflict with the contract's state (409)."""
        if self.reason is None:
            return 404
        return 403 if self.reason == AdmissionRefusal.NOT_MEMBER else 409

    def api_details(self) -> dict[str, object]:
        return {"product_urls": list(self.product_urls)} if self.product_urls else {}


# Guessing codes


class TooManyCodeAttempts(CodeRefused):
    """Too many wrong codes from this learner or address: every code is refused for a while."""

    http_status = 429

    def __init__(self, *, wait_seconds: float):
        self.wait_seconds = wait_seconds
        super().__init__(
            f"Too many wrong codes were tried. Try again in {describe_wait(wait_seconds)}."
        )
