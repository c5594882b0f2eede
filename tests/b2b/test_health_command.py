"""manage.py b2b_health: its output, exit statuses and --fix; the periodic report's mail."""

import io
import json
import subprocess
import sys

import pytest
from django.core.management import call_command

from b2b.models import ContractCodeStatus, ReportedHealthFinding
from b2b.services.invitations.invite import invite
from b2b.tasks import health_report_task
from tests.b2b.helpers import contract_with_products, reconcile
from tests.support import factories as f
from tests.support.smtp_server import body_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(site_tree, no_openedx):
    contract, _ = contract_with_products(max_learners=2, products=1)
    reconcile(contract)
    return contract


def run(*args):
    out = io.StringIO()
    try:
        call_command("b2b_health", *args, stdout=out)
    except SystemExit as exc:
        return out.getvalue(), exc.code
    return out.getvalue(), 0


def test_healthy_exits_0(contract):
    assert run() == ("Healthy: no findings (1 contract(s) checked).\n", 0)
    out, status = run("--format", "json")
    assert (json.loads(out), status) == ([], 0)


def test_open_invitations_of_an_uncapped_contract_are_healthy(site_tree, no_openedx):
    contract, _ = contract_with_products(max_learners=None, products=1)
    reconcile(contract)
    invite(contract=contract, email="ada@example.com", by=None)
    invite(contract=contract, email="bob@example.com", by=None)
    assert run() == ("Healthy: no findings (1 contract(s) checked).\n", 0)


def test_findings_exit_1_one_row_each(contract):
    for _ in range(3):
        f.ContractMembershipFactory(contract=contract)
    out, status = run()
    assert status == 1
    assert "over-cap" in out and "3 learners, over the cap of 2" in out
    assert f"{contract.pk} {contract.title}" in out
    assert out.endswith("1 finding(s), 1 error(s).\n")
    rows = json.loads(run("--format", "json")[0])
    assert [(r["severity"], r["contract_id"], r["check"], r["what"]) for r in rows] == [
        ("error", contract.pk, "over-cap", "3 learners, over the cap of 2")
    ]
    assert rows[0]["fix"].startswith(f"raise the cap (b2b_contract modify {contract.pk}")


def test_fix_repairs_what_is_safe_and_says_what_is_left(
    contract, django_capture_on_commit_callbacks
):
    ContractCodeStatus.objects.filter(pk=contract.pk).update(last_error="boom")
    for _ in range(3):
        f.ContractMembershipFactory(contract=contract)
    with django_capture_on_commit_callbacks(execute=True):
        out, status = run("--fix", "--format", "json")
    assert status == 1  # the cap is left for a person
    rows = {r["check"]: r for r in json.loads(out)}
    assert rows["reconciliation-failed"]["repaired"] == "requested the code reconciliation"
    assert rows["over-cap"]["left_for_a_person"] == "needs a person"
    assert ContractCodeStatus.objects.get(pk=contract.pk).last_error == ""
    ContractCodeStatus.objects.filter(pk=contract.pk).update(last_error="boom")
    contract.memberships.all()[:1].get().delete()
    contract.memberships.all()[:1].get().delete()
    with django_capture_on_commit_callbacks(execute=True):
        out, status = run("--fix")
    assert status == 0  # everything found was repaired
    assert "Repaired 1; 0 left for a person." in out


def test_unknown_contract_could_not_run(contract):
    with pytest.raises(Exception) as caught:
        call_command("b2b_health", "--contract", "999999")
    assert caught.value.returncode == 2
    assert str(caught.value) == "No contract with id 999999"


def test_database_down_is_one_line_and_exit_2(tmp_path):
    env = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere",
        "SECRET_KEY": "test-only-secret-key",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "b2b_health"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("CommandError: database error: ")


def test_the_periodic_report_mails_new_findings_once(contract, smtp_server, settings):
    settings.B2B_STAFF_ALERT_EMAILS = ["ops@example.com", "lead@example.com"]
    assert health_report_task() == 0  # healthy: no mail
    for _ in range(3):
        f.ContractMembershipFactory(contract=contract)
    assert health_report_task() == 1
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "ops@example.com, lead@example.com"
    assert mail["Subject"] == "[B2B contracts] health report: 1 new problem(s)"
    body = body_text(mail, "plain")
    assert f"[error] contract {contract.pk} {contract.title}: 3 learners, over the cap of 2" in body
    assert health_report_task() == 0  # the same finding: no second mail
    ContractCodeStatus.objects.filter(pk=contract.pk).update(last_error="boom")
    assert health_report_task() == 1  # a new one: one more mail, with it alone
    mails = smtp_server.wait_for(2)
    assert "boom" in body_text(mails[1], "plain")
    assert "over the cap" not in body_text(mails[1], "plain")
    assert ReportedHealthFinding.objects.count() == 2
    # Gone, then back: reported again.
    ContractCodeStatus.objects.filter(pk=contract.pk).update(last_error="")
    assert health_report_task() == 0
    assert ReportedHealthFinding.objects.count() == 1
    ContractCodeStatus.objects.filter(pk=contract.pk).update(last_error="boom")
    assert health_report_task() == 1
    assert len(smtp_server.wait_for(3)) == 3


def test_a_mail_that_cannot_be_sent_is_tried_again(contract, smtp_server, settings):
    settings.B2B_STAFF_ALERT_EMAILS = ["ops@example.com"]
    for _ in range(3):
        f.ContractMembershipFactory(contract=contract)
    smtp_server.refuse_next(1, "451 try again later")
    with pytest.raises(Exception, match="451"):
        health_report_task()
    assert ReportedHealthFinding.objects.count() == 0
    assert health_report_task() == 1
    assert len(smtp_server.wait_for(1)) == 1


def test_beat_runs_the_report(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["b2b-health-report"]
    assert entry["task"] == "b2b.health_report"
    assert entry["schedule"].total_seconds() == settings.B2B_HEALTH_INTERVAL_SECONDS


@pytest.fixture
def dashboard_without_workflows(settings):
    """The dashboard's health panel, without Wagtail's moderation panels beside it: those read
    the default workflow's task, which a long suite run has been seen to leave without its
    specific row (a RuntimeWarning, an error here); they are not what these tests check."""
    settings.WAGTAIL_WORKFLOW_ENABLED = False


def test_the_wagtail_dashboard_shows_the_findings_to_staff(
    contract, client, dashboard_without_workflows
):
    for _ in range(3):
        f.ContractMembershipFactory(contract=contract)
    staff = f.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    page = client.get("/cms/").content.decode()
    assert "Health report" in page
    assert "3 learners, over the cap of 2" in page
    assert f"{contract.pk} {contract.title}" in page


def test_the_dashboard_panel_says_healthy(contract, client, dashboard_without_workflows):
    client.force_login(f.UserFactory(is_staff=True, is_superuser=True))
    page = client.get("/cms/").content.decode()
    assert "Healthy: no findings (1 contract checked)." in page
