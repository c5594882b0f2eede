"""Learner pages: cart, checkout, payment receipt, orders and dashboard.

Thin views: they read the request, call one service or selector, and render or redirect. Every
page but the processor's receipt needs a signed-in learner and shows only their own data.
"""

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from config.throttling import client_address
from ecommerce import selectors
from ecommerce.exceptions import (
    CodeRefused,
    EcommerceError,
    EnrollmentRefused,
    InvalidPaymentResponse,
    OrderNotFound,
    PaymentNotConfigured,
    ProductUnavailable,
    TooManyCodeAttempts,
)
from ecommerce.forms import CODE_MAX_LENGTH, CodeForm
from ecommerce.services.baskets import (
    add_product_to_basket,
    get_cart,
    product_title,
    remove_code_from_basket,
)
from ecommerce.services.checkout import PaymentUrls, check_out
from ecommerce.services.code_attempts import apply_code_with_throttle
from ecommerce.services.contract_enrollments import (
    available_contract_runs,
    enroll_in_contract_run,
)
from ecommerce.services.payments import process_payment_response

log = logging.getLogger(__name__)


def _render_cart(request, *, form: CodeForm | None = None, status: int = 200):
    cart = get_cart(user=request.user)
    # A code handed over in the link (an invitation's) is filled in, ready to apply.
    initial = {"code": request.GET.get("code", "")[:CODE_MAX_LENGTH]}
    context = {"cart": cart, "code_form": form or CodeForm(initial=initial)}
    return render(request, "ecommerce/cart.html", context, status=status)


@require_GET
@login_required
def cart_add(request):
    """The product URL of the codes CSV: a fresh cart holding just this product."""
    try:
        product = add_product_to_basket(user=request.user, product_id=request.GET.get("product_id"))
    except ProductUnavailable as exc:
        return render(
            request, "ecommerce/product_unavailable.html", {"message": str(exc)}, status=404
        )
    messages.success(request, f"{product_title(product)} is in your cart.")
    code = request.GET.get("code", "").strip()
    if code:  # an invitation's link: the code waits in the form, ready to apply
        return redirect(f"{reverse('ecommerce:cart')}?{urlencode({'code': code})}")
    return redirect("ecommerce:cart")


@require_GET
@login_required
def cart(request):
    return _render_cart(request)


@require_POST
@login_required
def cart_apply_code(request):
    form = CodeForm(request.POST)
    status = 200
    if form.is_valid():
        try:
            apply_code_with_throttle(
                user=request.user,
                code=form.cleaned_data["code"],
                address=client_address(request),
            )
        except TooManyCodeAttempts as exc:
            form.add_error("code", str(exc))
            status = 429
        except CodeRefused as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, "Your enrollment code is applied.")
            return redirect("ecommerce:cart")
    return _render_cart(request, form=form, status=status)


@require_POST
@login_required
def cart_remove_code(request):
    remove_code_from_basket(user=request.user)
    messages.info(request, "The code was removed from your cart.")
    return redirect("ecommerce:cart")


@require_POST
@login_required
def checkout(request):
    urls = PaymentUrls(
        receipt_url=request.build_absolute_uri(reverse("ecommerce:payment-receipt")),
        cancel_url=request.build_absolute_uri(reverse("ecommerce:payment-receipt")),
        backoffice_url=request.build_absolute_uri(reverse("ecommerce:payment-backoffice")),
    )
    try:
        outcome = check_out(user=request.user, ip_address=client_address(request), urls=urls)
    except EcommerceError as exc:
        messages.error(request, str(exc))
        return redirect("ecommerce:cart")
    if outcome.is_complete:
        titles = ", ".join(outcome.titles)
        messages.success(request, f"Your order is complete. You are enrolled in {titles}.")
        return redirect("ecommerce:dashboard")
    return render(
        request,
        "ecommerce/payment_redirect.html",
        {"order": outcome.order, "payment": outcome.payment},
    )


def _apply_processor_post(request):
    """Verify and apply CyberSource's post; returns (order, error response)."""
    try:
        return process_payment_response(data=request.POST), None
    except InvalidPaymentResponse as exc:
        log.warning("Rejected a payment response from %s: %s", request.META.get("REMOTE_ADDR"), exc)
        return None, (403, str(exc))
    except OrderNotFound as exc:
        return None, (404, str(exc))
    except PaymentNotConfigured as exc:
        return None, (503, str(exc))


@csrf_exempt
@require_POST
def payment_receipt(request):
    """Where CyberSource sends the learner back (receipt and cancel pages): signed, no CSRF."""
    order, error = _apply_processor_post(request)
    if error is not None:
        status, message = error
        return render(request, "ecommerce/payment_error.html", {"message": message}, status=status)
    return redirect("ecommerce:order-detail", order_id=order.pk)


@csrf_exempt
@require_POST
def payment_backoffice(request):
    """CyberSource's server-to-server copy of the response (same handling, no page)."""
    _order, error = _apply_processor_post(request)
    if error is not None:
        status, message = error
        return HttpResponse(message, status=status, content_type="text/plain")
    return HttpResponse("OK", content_type="text/plain")


@require_GET
@login_required
def order_list(request):
    orders = selectors.orders_of(request.user)
    return render(request, "ecommerce/order_list.html", {"orders": orders})


@require_GET
@login_required
def order_detail(request, order_id: int):
    order = selectors.order_of(request.user, order_id)
    if order is None:
        raise Http404("No such order")
    context = {"order": order, "rows": selectors.order_rows(order)}
    return render(request, "ecommerce/order_detail.html", context)


@require_GET
@login_required
def dashboard(request):
    context = {
        "enrollments": selectors.enrollments_of(request.user),
        "available": available_contract_runs(user=request.user),
    }
    return render(request, "ecommerce/dashboard.html", context)


@require_POST
@login_required
def dashboard_enroll(request, run_id: int):
    try:
        enrollment = enroll_in_contract_run(user=request.user, run_id=run_id)
    except EnrollmentRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"You are enrolled in {enrollment.run.title}.")
    return redirect("ecommerce:dashboard")
