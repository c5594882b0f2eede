"""Every invariant a database constraint can hold is held by one: these writes must fail."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import DataError, IntegrityError, transaction

from b2b.models import ContractPage, OrganizationPage
from courses.enums import RequirementNodeType, RequirementOperator
from courses.models import ProgramRequirement
from tests.support import factories as f

pytestmark = pytest.mark.django_db


def _fails(create):
    # PostgreSQL reports a too-long value as a DataError; SQLite does not check lengths.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        create()


def test_every_factory_builds_a_valid_row():
    for factory in (
        f.UserFactory,
        f.CourseFactory,
        f.CourseRunFactory,
        f.ProgramFactory,
        f.ProgramRequirementFactory,
        f.CourseRunEnrollmentFactory,
        f.ProductFactory,
        f.DiscountFactory,
        f.DiscountProductFactory,
        f.BasketFactory,
        f.BasketItemFactory,
        f.BasketDiscountFactory,
        f.OrderFactory,
        f.LineFactory,
        f.DiscountRedemptionFactory,
        f.TransactionFactory,
        f.OrganizationPageFactory,
        f.ContractPageFactory,
        f.ContractMembershipFactory,
    ):
        obj = factory()
        assert obj.pk is not None, factory.__name__
        assert type(obj).objects.filter(pk=obj.pk).exists(), factory.__name__


def test_discount_codes_are_unique():
    code = f.DiscountFactory()
    _fails(lambda: f.DiscountFactory(discount_code=code.discount_code))


def test_one_active_product_per_object():
    product = f.ProductFactory()
    run = product.purchasable_object
    _fails(lambda: f.ProductFactory(purchasable_object=run))
    # An inactive product for the same run is allowed, any number of times.
    f.ProductFactory(purchasable_object=run, is_active=False)
    f.ProductFactory(purchasable_object=run, is_active=False)


def test_product_price_not_negative():
    _fails(lambda: f.ProductFactory(price=Decimal("-1")))


def test_membership_unique_per_user_and_contract():
    membership = f.ContractMembershipFactory()
    _fails(lambda: f.ContractMembershipFactory(user=membership.user, contract=membership.contract))


def test_courseware_ids_unique():
    run = f.CourseRunFactory()
    _fails(lambda: f.CourseRunFactory(courseware_id=run.courseware_id))
    course = f.CourseFactory()
    _fails(lambda: f.CourseFactory(readable_id=course.readable_id))
    program = f.ProgramFactory()
    _fails(lambda: f.ProgramFactory(readable_id=program.readable_id))


@pytest.mark.parametrize(
    "readable_id", ["DEMO101", "course-v1:ORG", "course-v1:ORG+NUM+RUN", "course-v1:a b+c"]
)
def test_course_readable_id_format(readable_id):
    _fails(lambda: f.CourseFactory(readable_id=readable_id))


def test_course_run_id_format():
    _fails(lambda: f.CourseRunFactory(courseware_id="course-v1:ORG+NUM"))


# Wagtail validates pages before saving them, so these write past validation with update().
@pytest.mark.parametrize("org_key", ["lower", "", "WITH SPACE", "PLUS+SIGN", "_LEADING"])
def test_org_key_must_be_valid(site_tree, org_key):
    org = f.OrganizationPageFactory()
    _fails(lambda: OrganizationPage.objects.filter(pk=org.pk).update(org_key=org_key))


def test_org_key_unique(site_tree):
    f.OrganizationPageFactory(org_key="MIT")
    other = f.OrganizationPageFactory()
    _fails(lambda: OrganizationPage.objects.filter(pk=other.pk).update(org_key="MIT"))


def test_sso_organization_id_unique_when_set(site_tree):
    f.OrganizationPageFactory(sso_organization_id="kc-1")
    f.OrganizationPageFactory(sso_organization_id=None)
    blank = f.OrganizationPageFactory(sso_organization_id="")
    assert OrganizationPage.objects.get(pk=blank.pk).sso_organization_id is None
    _fails(lambda: OrganizationPage.objects.filter(pk=blank.pk).update(sso_organization_id="kc-1"))


@pytest.mark.parametrize(
    "change",
    [
        {"contract_start": date(2026, 2, 1), "contract_end": date(2026, 1, 1)},
        {"max_learners": 0},
        {"enrollment_fixed_price": Decimal("-5")},
        {"integration_type": "carrier-pigeon"},
    ],
)
def test_contract_terms(site_tree, change):
    contract = f.ContractPageFactory()
    _fails(lambda: ContractPage.objects.filter(pk=contract.pk).update(**change))


def test_enrollment_unique_per_user_and_run():
    enrollment = f.CourseRunEnrollmentFactory()
    _fails(lambda: f.CourseRunEnrollmentFactory(user=enrollment.user, run=enrollment.run))


def test_one_redemption_per_code_and_order():
    redemption = f.DiscountRedemptionFactory()
    _fails(
        lambda: f.DiscountRedemptionFactory(
            discount=redemption.discount, redeemed_order=redemption.redeemed_order
        )
    )


def test_user_email_unique_ignoring_case():
    f.UserFactory(email="Learner@Example.com")
    _fails(lambda: f.UserFactory(email="learner@example.com"))


def test_requirement_node_shapes():
    root = f.ProgramRequirementFactory()
    course = f.CourseFactory()
    _fails(
        lambda: root.add_child(
            program=root.program, node_type=RequirementNodeType.COURSE, course=None
        )
    )
    _fails(
        lambda: root.add_child(
            program=root.program,
            node_type=RequirementNodeType.OPERATOR,
            operator=RequirementOperator.MIN_NUMBER_OF,
            operator_value=None,
        )
    )
    child = root.add_child(
        program=root.program, node_type=RequirementNodeType.COURSE, course=course
    )
    assert ProgramRequirement.objects.get(pk=child.pk).course == course
