"""Guessing enrollment codes: wrong codes are limited per learner and per client address.

Posted as the cart's form posts them (the code field only), from the address in REMOTE_ADDR.
"""

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from ecommerce.constants import CART_ADD_PATH
from ecommerce.models import BasketDiscount
from tests.ecommerce import helpers as h

pytestmark = pytest.mark.django_db

APPLY = reverse("ecommerce:cart-apply-code")
NOT_FOUND = "This code does not exist. Check it and try again."
THROTTLED = "Too many wrong codes were tried. Try again in 15 minutes."


@pytest.fixture
def limits(settings):
    settings.CODE_ATTEMPT_LIMIT_PER_LEARNER = 3
    settings.CODE_ATTEMPT_LIMIT_PER_ADDRESS = 5
    settings.CODE_ATTEMPT_WINDOW_SECONDS = 900
    return settings


@pytest.fixture
def product(site_tree):
    _contract, (product,) = h.b2b_product(max_learners=10)
    return product


def _shopper(product, email: str, address: str = "203.0.113.7") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.force_login(h.learner(email))
    client.get(f"{CART_ADD_PATH}?product_id={product.pk}")
    return client


def _try(client: Client, code: str) -> tuple[int, str]:
    response = client.post(APPLY, {"code": code})
    return response.status_code, response.content.decode()


def _guess_wrong(client: Client, times: int) -> None:
    for attempt in range(times):
        status, page = _try(client, f"wrong-{attempt}")
        assert status == 200 and NOT_FOUND in page


def test_beyond_the_learner_limit_even_the_right_code_is_refused_with_the_wait(
    limits, product, caplog
):
    ada = _shopper(product, "ada@example.com")
    _guess_wrong(ada, 3)
    learner_id = ada.session["_auth_user_id"]
    assert [
        r.getMessage() for r in caplog.records if r.name == "ecommerce.services.code_attempts"
    ] == [f"Enrollment codes paused for learner:{learner_id}: 3 refused codes within 900 s"]

    status, page = _try(ada, h.code_for(product).discount_code)

    assert status == 429
    assert THROTTLED in page
    assert 'aria-invalid="true"' in page
    assert not BasketDiscount.objects.exists()


def test_the_address_limit_covers_every_learner_behind_it(limits, product):
    ada = _shopper(product, "ada@example.com")
    grace = _shopper(product, "grace@example.com")
    _guess_wrong(ada, 3)
    _guess_wrong(grace, 2)  # five wrong codes from 203.0.113.7; grace alone made two

    status, page = _try(grace, h.code_for(product).discount_code)
    assert (status, THROTTLED in page) == (429, True)

    elsewhere = _shopper(product, "alan@example.com", address="198.51.100.4")
    assert _try(elsewhere, h.code_for(product).discount_code)[0] == 302
    assert BasketDiscount.objects.get().basket.user.email == "alan@example.com"


def test_a_right_code_clears_the_learners_wrong_ones(limits, product):
    ada = _shopper(product, "ada@example.com")
    code = h.code_for(product).discount_code
    _guess_wrong(ada, 2)
    assert _try(ada, code)[0] == 302
    ada.post(reverse("ecommerce:cart-remove-code"))

    _guess_wrong(ada, 2)  # 4 in all from ada, but only 2 since her right code
    assert _try(ada, code)[0] == 302
    assert BasketDiscount.objects.get().discount.discount_code == code


def test_attempts_are_allowed_again_when_the_window_ends(limits, product):
    limits.CODE_ATTEMPT_WINDOW_SECONDS = 3
    ada = _shopper(product, "ada@example.com")
    _guess_wrong(ada, 3)
    status, page = _try(ada, h.code_for(product).discount_code)
    assert status == 429
    assert re.search(r"Try again in [123] seconds?\.", page)

    time.sleep(3.2)
    assert _try(ada, h.code_for(product).discount_code)[0] == 302


@pytest.mark.redis
def test_the_limit_holds_on_the_shared_redis_cache(limits, product, redis_url):
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    limits.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    ada = _shopper(product, "ada@example.com")
    _guess_wrong(ada, 3)

    status, page = _try(ada, h.code_for(product).discount_code)

    assert (status, THROTTLED in page) == (429, True)
    assert redis.Redis.from_url(redis_url).dbsize() > 0  # the counters live in Redis


def test_behind_a_proxy_each_client_is_counted_on_its_own(limits, product):
    limits.TRUSTED_PROXY_COUNT = 1
    ada = _shopper(product, "ada@example.com", address="10.0.0.2")
    grace = _shopper(product, "grace@example.com", address="10.0.0.2")
    for attempt in range(3):
        ada.post(APPLY, {"code": f"a{attempt}"}, HTTP_X_FORWARDED_FOR="198.51.100.1")
        grace.post(APPLY, {"code": f"g{attempt}"}, HTTP_X_FORWARDED_FOR="198.51.100.2")
    alan = _shopper(product, "alan@example.com", address="10.0.0.2")

    # Six wrong codes reached the site from the proxy, but from two clients with three each.
    response = alan.post(
        APPLY, {"code": h.code_for(product).discount_code}, HTTP_X_FORWARDED_FOR="198.51.100.2"
    )
    assert response.status_code == 302
