"""The learners' progress CSV: the table's columns plus the Open edX username and as_of,
spreadsheet-safe cells, read in chunks of fixed queries, refused for an aggregates-only
contract."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from b2b.enums import ProgressVisibility
from b2b.models import AttentionCutoffs
from b2b.selectors.progress_rows import PROGRESS_CSV_HEADER, iter_progress_csv_rows
from courses.models import CourseRun
from tests.support import factories as f
from tests.support.progress import progress_row

pytestmark = pytest.mark.django_db


def _run(contract):
    return CourseRun.objects.filter(b2b_contract=contract).order_by("pk").first()


def _download(client, contract):
    response = client.get(f"/manage/contracts/{contract.pk}/progress.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="progress-{contract.pk}.csv"'
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_the_csv_has_the_tables_columns_the_open_edx_username_and_as_of(manager_client, orgs):
    as_of = timezone.now() - timedelta(hours=3)
    user = f.UserFactory(email="ann@acme.example", name="Ann")
    progress_row(
        orgs.contract_a,
        _run(orgs.contract_a),
        user=user,
        edx_username="ann_edx",
        grade_percent=Decimal("0.8765"),
        letter_grade="B",
        passed=True,
        first_passed_on=as_of,
        cert_status="downloadable",
        cert_url="https://courses.example/cert/1",
        as_of=as_of,
        changed_on=as_of,
    )
    header, row = _download(manager_client, orgs.contract_a)
    assert header == PROGRESS_CSV_HEADER
    assert header[2] == "Open edX username" and header[-1] == "As of"
    values = dict(zip(header, row, strict=True))
    assert values["Name"] == "Ann"
    assert values["E-mail"] == "ann@acme.example"
    assert values["Open edX username"] == "ann_edx"
    assert values["Run"] == _run(orgs.contract_a).courseware_id
    assert values["Grade (%)"] == "88"
    assert values["Letter grade"] == "B"
    assert values["Passed on"] == as_of.isoformat()
    assert values["Certificate"] == "downloadable"
    assert values["Certificate URL"] == "https://courses.example/cert/1"
    assert values["Needs attention"] == "no"
    assert values["Last nudged"] == ""
    assert values["As of"] == as_of.isoformat()


def test_cells_that_look_like_formulas_are_neutralised(manager_client, orgs):
    user = f.UserFactory(email="evil@acme.example", name='=HYPERLINK("http://x")')
    progress_row(
        orgs.contract_a,
        _run(orgs.contract_a),
        user=user,
        edx_username="+cmd|calc",
        cert_url="javascript:alert(1)",
        letter_grade="@SUM(A1)",
    )
    _header, row = _download(manager_client, orgs.contract_a)
    assert row[0] == '\'=HYPERLINK("http://x")'
    assert row[2] == "'+cmd|calc"
    assert row[6] == "'@SUM(A1)"
    assert row[9] == ""  # not a web address: left out
    assert row[5] == ""  # not started


def test_an_unmapped_learner_is_listed_by_open_edx_name_and_email(manager_client, orgs):
    progress_row(orgs.contract_a, _run(orgs.contract_a), edx_username="ghost", edx_email="g@x.io")
    _header, row = _download(manager_client, orgs.contract_a)
    assert row[:3] == ["ghost", "g@x.io", "ghost"]


def test_the_csv_is_refused_for_an_aggregates_contract(manager_client, orgs):
    contract = orgs.contract_a
    contract.progress_visibility = ProgressVisibility.AGGREGATES
    contract.save()
    progress_row(contract, _run(contract), edx_username="secret_learner")
    response = manager_client.get(f"/manage/contracts/{contract.pk}/progress.csv")
    assert response.status_code == 403
    html = response.content.decode()
    assert "totals only" in html
    assert "secret_learner" not in html
    assert "Traceback" not in html


def test_rows_are_read_in_chunks_of_fixed_queries(orgs, django_assert_num_queries):
    run = _run(orgs.contract_a)
    for i in range(7):
        user = f.UserFactory(email=f"u{i}@acme.example") if i % 2 else None
        progress_row(orgs.contract_a, run, user=user)
    cutoffs = AttentionCutoffs.at(timezone.now())
    with django_assert_num_queries(3):  # 3 + 3 + 1 rows
        rows = list(iter_progress_csv_rows(orgs.contract_a.pk, cutoffs, chunk=3))
    assert len(rows) == 8
    with django_assert_num_queries(1):
        assert len(list(iter_progress_csv_rows(orgs.contract_a.pk, cutoffs, chunk=100))) == 8
    other = f.ContractPageFactory(parent=orgs.b)
    with django_assert_num_queries(1):
        assert list(iter_progress_csv_rows(other.pk, cutoffs)) == [PROGRESS_CSV_HEADER]


def test_the_progress_page_links_the_csv(manager_client, orgs):
    html = manager_client.get(f"/manage/contracts/{orgs.contract_a.pk}/progress/").content.decode()
    assert f'href="/manage/contracts/{orgs.contract_a.pk}/progress.csv"' in html
