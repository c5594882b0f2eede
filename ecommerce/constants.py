# The cart address that replaces the cart's content with one product (?product_id=N). It is the
# "Product URL" handed to learners in the enrollment-codes CSV, so it must never change.
CART_ADD_PATH = "/cart/add/"
