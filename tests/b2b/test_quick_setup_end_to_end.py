"""The spec's quick setups, end to end on the demo catalog, with a (fake) Open edX configured."""

import csv
import io
from collections import Counter

import pytest
from django.core.management import call_command

from courses.enums import EdxCopyState
from courses.models import CourseRun

pytestmark = pytest.mark.django_db


def test_capped_non_sso_contract_on_the_demo_catalog(
    run_command, openedx_server, tmp_path, django_capture_on_commit_callbacks
):
    call_command("load_demo_catalog", stdout=io.StringIO())
    for source in CourseRun.objects.filter(b2b_contract__isnull=True):
        openedx_server.add_studio_run(source.courseware_id, title=source.title)

    with django_capture_on_commit_callbacks(execute=True):
        out, _ = run_command(
            "b2b_contract",
            "create",
            "UniversityX",
            "UniversityX Contract",
            "non-sso",
            "--create",
            "--max-learners",
            "200",
            "--description",
            "Test capped non-SSO contract",
        )
    contract_id = int(out.split("Created contract UniversityX Contract (id ")[1].split(",")[0])
    with django_capture_on_commit_callbacks(execute=True):
        run_command(
            "b2b_contract", "courseware", str(contract_id), "program-v1:UAI_SOURCE+AI_FOUNDATIONS"
        )

    runs = CourseRun.objects.filter(b2b_contract_id=contract_id)
    assert runs.count() == 6  # 4 courses, plus the 2 of the nested program
    assert set(runs.values_list("edx_copy_state", flat=True)) == {EdxCopyState.CREATED}
    for run in runs:
        assert run.courseware_id in openedx_server.studio_runs

    target = tmp_path / "codes.csv"
    run_command("b2b_list", "contracts", "--codes", str(contract_id), "--codes-out", str(target))
    with target.open() as handle:
        per_product = Counter(row["Product URL"] for row in csv.DictReader(handle))
    assert len(per_product) == 6
    assert set(per_product.values()) == {200}
