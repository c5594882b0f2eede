from datetime import timedelta

# The cart address that replaces the cart's content with one product (?product_id=N). It is the
# "Product URL" handed to learners in the enrollment-codes CSV, so it must never change.
CART_ADD_PATH = "/cart/add/"

# How long a pending order (a learner at the payment processor) holds the one-time code it uses.
# After that, another learner may use the code; a late payment for the old order is then recorded
# but not fulfilled (the learner is told to contact support for a refund).
PENDING_ORDER_HOLD = timedelta(hours=2)

# Prefix of the order reference numbers sent to the payment processor ("<prefix>-<order id>").
ORDER_REFERENCE_PREFIX = "b2b-order"
