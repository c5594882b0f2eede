"""Cart, checkout, payment receipt, orders and dashboard."""

from django.urls import path

from ecommerce import views
from ecommerce.constants import CART_ADD_PATH

app_name = "ecommerce"

urlpatterns = [
    path("cart/", views.cart, name="cart"),
    # The product URL of the enrollment-codes CSV (ecommerce.constants.CART_ADD_PATH).
    path(CART_ADD_PATH.lstrip("/"), views.cart_add, name="cart-add"),
    path("cart/code/", views.cart_apply_code, name="cart-apply-code"),
    path("cart/code/remove/", views.cart_remove_code, name="cart-remove-code"),
    path("cart/checkout/", views.checkout, name="checkout"),
    path("checkout/receipt/", views.payment_receipt, name="payment-receipt"),
    path("checkout/backoffice/", views.payment_backoffice, name="payment-backoffice"),
    path("orders/", views.order_list, name="order-list"),
    path("orders/<int:order_id>/", views.order_detail, name="order-detail"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/runs/<int:run_id>/enroll/", views.dashboard_enroll, name="dashboard-enroll"),
]
