"""Hostile uploads at the page: each is answered on the page with one sentence and starts no
job; formula cells are refused per row and neutralised in the results file; a file of 10,000
rows is queued rather than handled in the request."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from b2b.enums import InviteJobState
from b2b.models import Invitation, InviteJob

pytestmark = pytest.mark.django_db


def _post(client, contract, data: bytes, name="people.csv"):
    return client.post(
        f"/manage/contracts/{contract.pk}/invite-many/",
        {"file": SimpleUploadedFile(name, data, "text/csv")},
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("email\nJosé@acme.example\n".encode("latin-1"), "The file is not UTF-8 text (line 2)."),
        (b"name,phone\nAda,555\n", "The file has no e-mail column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "The file is not a CSV text file."),
        (b'email\n"unterminated@acme.example\n', "The file is not valid CSV"),
        (b"", "The submitted file is empty."),
    ],
)
def test_refused_files_say_why_and_start_nothing(manager_client, orgs, data, message):
    response = _post(manager_client, orgs.contract_a, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not InviteJob.objects.exists()
    assert not Invitation.objects.exists()


def test_a_huge_file_is_refused_before_it_is_read(manager_client, orgs, settings):
    settings.B2B_INVITE_UPLOAD_MAX_BYTES = 1000
    response = _post(manager_client, orgs.contract_a, b"email\n" + b"a@acme.example\n" * 100)
    assert response.status_code == 400
    assert "The file is too large (1,506 bytes); the limit is 1,000 bytes." in (
        response.content.decode()
    )
    assert not InviteJob.objects.exists()


def test_formula_cells_are_refused_and_neutralised_in_the_results(
    manager_client, orgs, django_capture_on_commit_callbacks
):
    data = (
        b"email,name\n"
        b'=HYPERLINK("http://evil.example"),Mallory\n'
        b"ok@acme.example,=cmd|' /C calc'!A0\n"
        b"fine@acme.example,@SUM(A1)\n"
        b"good@acme.example,Grace\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(manager_client, orgs.contract_a, data)
    assert response.status_code == 302
    job = InviteJob.objects.get()
    results = manager_client.get(f"{response['Location']}results.csv")
    rows = list(csv.reader(io.StringIO(b"".join(results.streaming_content).decode())))
    assert rows == [
        ["Line", "E-mail", "Name", "Result"],
        ["2", '\'=HYPERLINK("http://evil.example")', "Mallory", "invalid e-mail"],
        ["3", "ok@acme.example", "'=cmd|' /C calc'!A0", "invalid name"],
        ["4", "fine@acme.example", "'@SUM(A1)", "invalid name"],
        ["5", "good@acme.example", "Grace", "invited"],
    ]
    job.refresh_from_db()
    assert job.state == InviteJobState.DONE
    assert list(Invitation.objects.values_list("email", flat=True)) == ["good@acme.example"]


def test_ten_thousand_rows_are_queued_not_run_in_the_request(
    manager_client, orgs, django_capture_on_commit_callbacks
):
    data = ("email\n" + "".join(f"p{i}@acme.example\n" for i in range(10_000))).encode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(manager_client, orgs.contract_a, data)
    assert response.status_code == 302
    job = InviteJob.objects.get()
    assert (job.rows, job.state, job.row_set.count()) == (10_000, InviteJobState.QUEUED, 10_000)
    assert len(callbacks) == 1  # the task, sent once the upload is stored
    assert not Invitation.objects.exists()
    page = manager_client.get(response["Location"]).content.decode()
    assert '<progress id="job-bar" class="progress" max="100" value="0">' in page
    assert "0 of 10000 addresses handled." in page
