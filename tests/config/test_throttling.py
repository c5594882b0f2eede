"""Who is asking (the client address behind trusted proxies), and how a wait is written."""

import pytest
from django.test import RequestFactory

from config.throttling import client_address, describe_wait


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.9", "10.0.0.2"),  # no trusted proxy: the header is the client's word
        (1, "198.51.100.9", "198.51.100.9"),
        (1, "6.6.6.6, 198.51.100.9", "198.51.100.9"),  # the client's own entry is ignored
        (2, "6.6.6.6, 198.51.100.9, 10.0.0.7", "198.51.100.9"),
        (2, "198.51.100.9", "10.0.0.2"),  # fewer entries than proxies: not through them all
        (1, "", "10.0.0.2"),
    ],
)
def test_client_address(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", **extra)
    assert client_address(request) == expected


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.2, "1 second"),
        (1, "1 second"),
        (44.1, "45 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (899.4, "15 minutes"),
        (900, "15 minutes"),
    ],
)
def test_describe_wait(seconds, text):
    assert describe_wait(seconds) == text
