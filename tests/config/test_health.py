"""/healthz answers without touching the database, for anyone, and only to GET."""

import pytest


@pytest.mark.django_db
def test_healthz_answers_ok_without_queries(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert (response.status_code, response.content, response["Content-Type"]) == (
        200,
        b"ok\n",
        "text/plain",
    )
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405
