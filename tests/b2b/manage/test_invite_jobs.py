"""Invite jobs: every row's result is stored with the batch that decided it, so a job that dies
half way and runs again reports what it had already done as done."""

import pytest
from django.db import DatabaseError

from b2b.enums import InviteJobState, InviteOutcome
from b2b.models import Invitation, InviteJob
from b2b.services.invitations.jobs import run_invite_job, start_invite_job
from b2b.services.invitations.uploads import UploadRow
from tests.b2b.helpers import FAIL_ON

pytestmark = pytest.mark.django_db


def _rows(*emails):
    return [UploadRow(line=i + 2, email=email, name="") for i, email in enumerate(emails)]


def _results(job):
    return [(r.email, r.outcome) for r in job.row_set.order_by("position")]


def test_a_job_that_dies_half_way_reports_its_first_batches_as_invited_when_run_again(
    orgs, settings, failing_insert
):
    settings.B2B_INVITATION_BATCH_SIZE = 3
    job = start_invite_job(
        contract=orgs.contract_a,
        rows=_rows(
            "a1@acme.example",
            "not an address",
            "a2@acme.example",
            "a3@acme.example",
            "a4@acme.example",
            FAIL_ON,
            "A1@acme.example",
            "a6@acme.example",
        ),
        by=orgs.manager,
    )

    with pytest.raises(DatabaseError):
        run_invite_job(job_id=job.pk)

    job.refresh_from_db()
    # back to queued, with the error, for the sweep (or a second delivery) to run it again
    assert (job.state, job.last_error) == (InviteJobState.QUEUED, "the server went away")
    assert (job.done, job.total) == (3, 6)
    first = {r.email: r.outcome for r in job.row_set.exclude(outcome="")}
    assert first == {
        "a1@acme.example": InviteOutcome.INVITED,
        "a2@acme.example": InviteOutcome.INVITED,
        "a3@acme.example": InviteOutcome.INVITED,
    }

    failing_insert()
    run_invite_job(job_id=job.pk)

    job.refresh_from_db()
    assert job.state == InviteJobState.DONE
    assert _results(job) == [
        ("a1@acme.example", InviteOutcome.INVITED),
        ("not an address", InviteOutcome.INVALID_EMAIL),
        ("a2@acme.example", InviteOutcome.INVITED),
        ("a3@acme.example", InviteOutcome.INVITED),
        ("a4@acme.example", InviteOutcome.INVITED),
        (FAIL_ON, InviteOutcome.INVITED),
        ("A1@acme.example", InviteOutcome.DUPLICATE),
        ("a6@acme.example", InviteOutcome.INVITED),
    ]
    invited = job.row_set.filter(outcome=InviteOutcome.INVITED)
    assert sorted(invited.values_list("invitation__email", flat=True)) == sorted(
        Invitation.objects.filter(contract=orgs.contract_a).values_list("email", flat=True)
    )
    assert Invitation.objects.filter(contract=orgs.contract_a).count() == 6


def test_a_finished_job_is_left_alone(orgs):
    job = start_invite_job(contract=orgs.contract_a, rows=_rows("b1@acme.example"), by=orgs.manager)
    run_invite_job(job_id=job.pk)
    assert run_invite_job(job_id=job.pk) is None
    assert _results(job) == [("b1@acme.example", InviteOutcome.INVITED)]
    assert InviteJob.objects.get(pk=job.pk).state == InviteJobState.DONE
