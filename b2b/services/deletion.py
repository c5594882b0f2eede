"""Whether an organization or contract may be deleted, and the clean-up before it is."""

from django.db.models import Exists, OuterRef

from b2b.models import ContractMembership, ContractPage, OrganizationPage
from courses.models import CourseRun
from ecommerce.models import Discount, DiscountProduct, DiscountRedemption


def _redeemed_codes(contracts):
    return Discount.objects.filter(b2b_contract__in=contracts).filter(
        Exists(DiscountRedemption.objects.filter(discount_id=OuterRef("pk")))
    )


def deletion_blockers(page) -> list[str]:
    """Reasons the page cannot be deleted (empty when it can)."""
    if isinstance(page, ContractPage):
        contracts = ContractPage.objects.filter(pk=page.pk)
    elif isinstance(page, OrganizationPage):
        contracts = ContractPage.objects.child_of(page)
    else:
        return []
    reasons = []
    learners = ContractMembership.objects.filter(contract__in=contracts).count()
    if learners:
        reasons.append(f"{learners} learner(s) are attached")
    runs = CourseRun.objects.filter(b2b_contract__in=contracts).count()
    if runs:
        reasons.append(f"{runs} course run(s) belong to it (detach them with --remove first)")
    redeemed = _redeemed_codes(contracts).count()
    if redeemed:
        reasons.append(f"{redeemed} enrollment code(s) have been used")
    return reasons


def release_unused_codes(page) -> int:
    """Delete the unused codes of the page's contracts, which would otherwise block deletion."""
    if isinstance(page, ContractPage):
        contracts = ContractPage.objects.filter(pk=page.pk)
    elif isinstance(page, OrganizationPage):
        contracts = ContractPage.objects.child_of(page)
    else:
        return 0
    unused = Discount.objects.filter(b2b_contract__in=contracts).values("pk")
    DiscountProduct.objects.filter(discount_id__in=unused).delete()
    deleted, _ = Discount.objects.filter(pk__in=unused).delete()
    return deleted
