"""What the b2b services promise their callers: typed results, objects in, no CLI words out."""

import dataclasses
from datetime import date

import pytest

from b2b.enums import IntegrationType
from b2b.exceptions import CoursewareConflict
from b2b.models import ContractCodeStatus, ContractPage
from b2b.services.contracts.terms import create_contract
from b2b.services.courseware import CoursewareResult, add_courseware, remove_courseware
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def test_create_contract_takes_the_organization_object(site_tree):
    org = f.OrganizationPageFactory(title="UniversityX", org_key="UNIX")
    other = f.OrganizationPageFactory(title="OTHER", org_key="OTHER")
    org.title = "OTHER"  # the service uses the object it is given; it never looks a name up

    created = create_contract(
        organization=org,
        name="Main",
        integration_type=IntegrationType.SSO,
        contract_start=date(2026, 1, 1),
    )

    contract = ContractPage.objects.get(title="Main")
    assert created.contract == contract
    assert created.organization == org
    assert contract.get_parent().pk == org.pk
    assert not ContractPage.objects.child_of(other).exists()
    assert ContractCodeStatus.objects.get(pk=contract.pk).requested_version == 1


def test_courseware_result_is_frozen_and_says_what_was_done(site_tree):
    contract = f.ContractPageFactory()
    course = f.CourseFactory()
    source = f.CourseRunFactory(course=course, run_tag="SOURCE")

    added = add_courseware(contract_id=contract.pk, courseware_id=course.readable_id)
    removed = remove_courseware(contract_id=contract.pk, courseware_id=course.readable_id)

    assert isinstance(added, CoursewareResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        added.reconciliation_requested = False
    (run,) = added.created_runs
    assert run.edx_copy_source == source.courseware_id
    assert (added.attached, added.assigned_runs, added.detached_runs) == (
        (course.readable_id,),
        (),
        (),
    )
    assert added.reconciliation_requested is True
    assert [r.pk for r in removed.detached_runs] == [run.pk]
    assert removed.reconciliation_requested is True


def test_attaching_nothing_new_requests_no_reconciliation(site_tree):
    contract = f.ContractPageFactory()
    run = f.CourseRunFactory(b2b_contract=contract, run_tag="2026_C1")

    result = add_courseware(contract_id=contract.pk, courseware_id=run.courseware_id)

    assert result.skipped == ((run.courseware_id, "already assigned to this contract"),)
    assert result.reconciliation_requested is False
    # The change locked the contract's status row (the lock order) and requested nothing.
    status = ContractCodeStatus.objects.get(pk=contract.pk)
    assert (status.requested_version, status.is_pending) == (0, False)


def test_removing_a_course_without_runs_requests_a_reconciliation(site_tree):
    contract = f.ContractPageFactory()
    course = f.CourseFactory()
    add_courseware(contract_id=contract.pk, courseware_id=course.readable_id, create_runs=False)

    result = remove_courseware(contract_id=contract.pk, courseware_id=course.readable_id)

    assert result.detached_runs == ()
    assert result.reconciliation_requested is True
    assert ContractCodeStatus.objects.get(pk=contract.pk).requested_version == 2


def test_service_messages_name_no_command_line_flags(site_tree):
    contract = f.ContractPageFactory()
    course = f.CourseFactory()

    with pytest.raises(CoursewareConflict) as raised:
        add_courseware(contract_id=contract.pk, courseware_id=course.readable_id)

    assert str(raised.value) == (
        f"Course {course.readable_id} has no runs to copy: import its SOURCE run first"
    )
