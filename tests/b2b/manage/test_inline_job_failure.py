"""A small list runs in the request; when PostgreSQL refuses part of it (a real error raised by
the database, here a trigger), the manager gets the page (not a server error) with one sentence,
the API a clean error body naming the job to poll, the log one warning line, and the job waits
queued for the sweep, which finishes it."""

import logging
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from b2b.enums import InviteJobState, InviteOutcome
from b2b.models import Invitation, InviteJob
from b2b.services.invitations.sweep import requeue_invitation_work
from tests.b2b.helpers import FAIL_ON
from users.services.api_tokens import create_api_token

pytestmark = pytest.mark.django_db

NOTICE = (
    "The list could not be handled just now; it is saved and will be handled automatically "
    "within 15 minutes."
)
LOGGER = "b2b.services.invitations.jobs"


def _file(*emails: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("people.csv", ("email\n" + "\n".join(emails)).encode(), "text/csv")


def _one_warning(caplog, job) -> None:
    (record,) = [r for r in caplog.records if r.name == LOGGER]
    assert record.levelno == logging.WARNING
    assert record.exc_info is None
    assert record.getMessage() == (
        f"Invite job {job.pk} could not run in the request, left queued for the sweep: "
        "the server went away"
    )


def _finish_with_the_sweep(job, failing_insert, django_capture_on_commit_callbacks):
    failing_insert()  # the database is well again
    later = timezone.now() + timedelta(minutes=11)
    with django_capture_on_commit_callbacks(execute=True):
        assert requeue_invitation_work(now=later).job_ids == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.last_error) == (InviteJobState.DONE, "")
    assert list(job.row_set.order_by("position").values_list("outcome", flat=True)) == [
        InviteOutcome.INVITED,
        InviteOutcome.INVITED,
    ]


def test_the_page_says_the_list_is_saved_and_the_sweep_finishes_it(
    manager_client, orgs, failing_insert, caplog, django_capture_on_commit_callbacks
):
    contract = orgs.contract_a
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(
            f"/manage/contracts/{contract.pk}/invite-many/",
            {"file": _file("ann@acme.example", FAIL_ON)},
        )
    job = InviteJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/manage/contracts/{contract.pk}/jobs/{job.pk}/"
    assert (job.state, job.last_error) == (InviteJobState.QUEUED, "the server went away")
    assert not Invitation.objects.exists()  # the batch was rolled back whole
    _one_warning(caplog, job)

    page = manager_client.get(response["Location"]).content.decode()
    assert NOTICE in page
    assert "server went away" not in page  # the database's words are for the logs
    status = manager_client.get(f"/manage/contracts/{contract.pk}/jobs/{job.pk}/status/").json()
    assert (status["state"], status["finished"]) == ("queued", False)

    _finish_with_the_sweep(job, failing_insert, django_capture_on_commit_callbacks)
    assert NOTICE not in manager_client.get(response["Location"]).content.decode()


def test_the_api_answers_503_with_the_job_to_poll(
    orgs, failing_insert, caplog, django_capture_on_commit_callbacks
):
    contract = orgs.contract_a
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {create_api_token(email=orgs.manager.email).token}")
    caplog.set_level(logging.WARNING, logger=LOGGER)
    response = api.post(
        f"/api/v1/manager/contracts/{contract.pk}/invitations/bulk/",
        {"rows": [{"email": "ann@acme.example"}, {"email": FAIL_ON}]},
        format="json",
    )
    job = InviteJob.objects.get()
    assert response.status_code == 503
    body = response.json()["error"]
    assert (body["code"], body["message"], body["fields"]) == ("invite_job_deferred", NOTICE, {})
    assert body["job"]["id"] == job.pk
    assert (body["job"]["state"], body["job"]["finished"]) == ("queued", False)
    location = f"/api/v1/manager/contracts/{contract.pk}/jobs/{job.pk}/"
    assert response["Location"] == f"http://testserver{location}"
    assert api.get(location).json()["state"] == "queued"
    _one_warning(caplog, job)

    _finish_with_the_sweep(job, failing_insert, django_capture_on_commit_callbacks)
    assert api.get(location).json()["state"] == "done"
