"""factory_boy factories for every model of the project."""

from decimal import Decimal

import factory
from django.contrib.contenttypes.models import ContentType
from factory.django import DjangoModelFactory

from b2b.enums import IntegrationType, MembershipSource
from b2b.models import ContractMembership, ContractPage, OrganizationPage
from b2b.services.organizations.index import ensure_organizations_index
from courses.enums import RequirementNodeType, RequirementOperator
from courses.models import Course, CourseRun, CourseRunEnrollment, Program, ProgramRequirement
from ecommerce.enums import DiscountType, OrderState, PaymentType, RedemptionType
from ecommerce.models import (
    Basket,
    BasketDiscount,
    BasketItem,
    ContractCodeTerms,
    Discount,
    DiscountProduct,
    DiscountRedemption,
    Line,
    Order,
    Product,
    Transaction,
)
from users.models import User


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"learner{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password("correct horse battery staple")


class CourseFactory(DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    readable_id = factory.Sequence(lambda n: f"course-v1:UAI_SOURCE+C{n:04d}")
    live = True


class CourseRunFactory(DjangoModelFactory):
    class Meta:
        model = CourseRun

    course = factory.SubFactory(CourseFactory)
    title = factory.LazyAttribute(lambda run: run.course.title)
    run_tag = "SOURCE"
    courseware_id = factory.LazyAttribute(lambda run: f"{run.course.readable_id}+{run.run_tag}")
    live = True
    is_self_paced = True


class ProgramFactory(DjangoModelFactory):
    class Meta:
        model = Program

    title = factory.Sequence(lambda n: f"Program {n}")
    readable_id = factory.Sequence(lambda n: f"program-v1:UAI_SOURCE+P{n:04d}")
    live = True


class ProgramRequirementFactory(DjangoModelFactory):
    """The root operator of a program's requirements; add children with ``add_child``."""

    class Meta:
        model = ProgramRequirement

    program = factory.SubFactory(ProgramFactory)
    node_type = RequirementNodeType.OPERATOR
    operator = RequirementOperator.ALL_OF

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.add_root(**kwargs)


class CourseRunEnrollmentFactory(DjangoModelFactory):
    class Meta:
        model = CourseRunEnrollment

    user = factory.SubFactory(UserFactory)
    run = factory.SubFactory(CourseRunFactory)


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product

    purchasable_object = factory.SubFactory(CourseRunFactory)
    content_type = factory.LazyAttribute(
        lambda p: ContentType.objects.get_for_model(p.purchasable_object)
    )
    object_id = factory.LazyAttribute(lambda p: p.purchasable_object.pk)
    price = Decimal("100.00")
    description = factory.LazyAttribute(lambda p: str(p.purchasable_object))
    is_active = True

    class Params:
        pass


class DiscountFactory(DjangoModelFactory):
    class Meta:
        model = Discount
        skip_postgeneration_save = True

    discount_code = factory.LazyFunction(Discount.new_code)
    # A contract's code sells at its contract's terms row, not at an amount of its own.
    amount = factory.LazyAttribute(lambda d: None if d.b2b_contract else Decimal("0.00"))
    b2b_contract = None
    discount_type = DiscountType.FIXED_PRICE
    redemption_type = RedemptionType.ONE_TIME
    payment_type = PaymentType.SALES
    is_bulk = True

    @factory.post_generation
    def contract_terms(obj, create, extracted, **kwargs):
        """A contract's code comes with terms for its contract ($0, no dates, as this factory's
        other codes) unless the contract has some already."""
        if create and obj.b2b_contract_id is not None:
            ContractCodeTerms.objects.get_or_create(
                contract_id=obj.b2b_contract_id, defaults={"amount": Decimal("0.00")}
            )


class DiscountProductFactory(DjangoModelFactory):
    class Meta:
        model = DiscountProduct

    discount = factory.SubFactory(DiscountFactory)
    product = factory.SubFactory(ProductFactory)


class BasketFactory(DjangoModelFactory):
    class Meta:
        model = Basket

    user = factory.SubFactory(UserFactory)


class BasketItemFactory(DjangoModelFactory):
    class Meta:
        model = BasketItem

    basket = factory.SubFactory(BasketFactory)
    product = factory.SubFactory(ProductFactory)


class BasketDiscountFactory(DjangoModelFactory):
    class Meta:
        model = BasketDiscount

    basket = factory.SubFactory(BasketFactory)
    discount = factory.SubFactory(DiscountFactory)
    redeemed_by = factory.LazyAttribute(lambda bd: bd.basket.user)


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    purchaser = factory.SubFactory(UserFactory)
    state = OrderState.PENDING
    total_price_paid = Decimal("0.00")


class LineFactory(DjangoModelFactory):
    class Meta:
        model = Line

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    list_price = factory.LazyAttribute(lambda line: line.product.price)
    total_price = factory.LazyAttribute(lambda line: line.product.price)


class DiscountRedemptionFactory(DjangoModelFactory):
    class Meta:
        model = DiscountRedemption

    discount = factory.SubFactory(DiscountFactory)
    redeemed_order = factory.SubFactory(OrderFactory)
    redeemed_by = factory.LazyAttribute(lambda r: r.redeemed_order.purchaser)


class TransactionFactory(DjangoModelFactory):
    class Meta:
        model = Transaction

    order = factory.SubFactory(OrderFactory)
    transaction_id = factory.Sequence(lambda n: f"T-{n:08d}")
    amount = Decimal("0.00")


class WagtailPageFactory(DjangoModelFactory):
    """Pages are created as children of ``parent`` (a page) through the tree API."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, parent=None, **kwargs):
        parent = parent or cls.default_parent()
        return parent.add_child(instance=model_class(**kwargs))

    @classmethod
    def default_parent(cls):
        raise NotImplementedError


class OrganizationPageFactory(WagtailPageFactory):
    class Meta:
        model = OrganizationPage

    title = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")
    org_key = factory.Sequence(lambda n: f"ORG{n}")

    @classmethod
    def default_parent(cls):
        return ensure_organizations_index().index


class ContractPageFactory(WagtailPageFactory):
    class Meta:
        model = ContractPage

    title = factory.Sequence(lambda n: f"Contract {n}")
    slug = factory.Sequence(lambda n: f"contract-{n}")
    integration_type = IntegrationType.NON_SSO
    active = True

    @classmethod
    def default_parent(cls):
        return OrganizationPageFactory()


class ContractMembershipFactory(DjangoModelFactory):
    class Meta:
        model = ContractMembership

    user = factory.SubFactory(UserFactory)
    contract = factory.SubFactory(ContractPageFactory)
    source = MembershipSource.STAFF
