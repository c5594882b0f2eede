"""Read queries behind the listings. Each runs a fixed number of queries, whatever the number of
contracts, runs or codes."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Q

from b2b.models import ContractCodeStatus, ContractMembership, ContractPage, OrganizationPage
from courses.enums import EdxCopyState
from courses.models import CourseRun
from ecommerce.models import Discount, DiscountProduct, Product
from ecommerce.selectors import code_redeemed
from users.models import User


def organizations_listing(org: OrganizationPage | None = None) -> list[dict]:
    orgs = OrganizationPage.objects.with_contract_counts().order_by("pk")
    if org is not None:
        orgs = orgs.filter(pk=org.pk)
    return [
        {
            "id": o.pk,
            "name": o.title,
            "org_key": o.org_key,
            "slug": o.slug,
            "sso_organization_id": o.sso_organization_id,
            "contracts": o.contract_count,
        }
        for o in orgs
    ]


def code_counts(contract_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per contract: all codes, usable ones (active, unredeemed) and redeemed ones."""
    redeemed = code_redeemed()
    rows = (
        Discount.objects.filter(b2b_contract_id__in=contract_ids)
        .annotate(is_redeemed=redeemed)
        .values("b2b_contract_id")
        .annotate(
            total=Count("pk"),
            usable=Count("pk", filter=Q(is_active=True, is_redeemed=False)),
            redeemed=Count("pk", filter=Q(is_redeemed=True)),
        )
        .order_by()
    )
    return {row["b2b_contract_id"]: row for row in rows}


def contracts_listing(org: OrganizationPage | None = None) -> list[dict]:
    contracts = (
        ContractPage.objects.order_by("pk")
        .annotate(learners=Count("memberships"))
        .prefetch_related("organization")
    )
    if org is not None:
        contracts = contracts.of_organization(org)
    contracts = list(contracts)
    ids = [c.pk for c in contracts]
    counts = code_counts(ids)
    statuses = {s.contract_id: s for s in ContractCodeStatus.objects.filter(contract_id__in=ids)}
    rows = []
    for c in contracts:
        organization = c.organization
        count = counts.get(c.pk, {})
        status = statuses.get(c.pk)
        pending = status is not None and status.is_pending
        rows.append(
            {
                "id": c.pk,
                "name": c.title,
                "slug": c.slug,
                "organization": organization.title if organization else None,
                "organization_id": organization.pk if organization else None,
                "integration_type": c.integration_type,
                "start": c.contract_start,
                "end": c.contract_end,
                "active": c.active,
                "max_learners": c.max_learners,
                "price": c.enrollment_fixed_price,
                "learners": c.learners,
                "codes_total": count.get("total", 0),
                "codes_usable": count.get("usable", 0),
                "codes_redeemed": count.get("redeemed", 0),
                "codes_status": (
                    f"pending since {status.pending_since:%Y-%m-%d %H:%M}"
                    if pending and status.pending_since
                    else "up to date"
                ),
                "codes_pending": pending,
            }
        )
    return rows


def courseware_listing(contract: ContractPage) -> dict[str, list[dict]]:
    runs = list(CourseRun.objects.filter(b2b_contract=contract).select_related("course"))
    run_type = ContentType.objects.get_for_model(CourseRun)
    products = {
        p.object_id: p
        for p in Product.objects.filter(
            content_type=run_type, object_id__in=[r.pk for r in runs], is_active=True
        )
    }
    usable = dict(
        DiscountProduct.objects.filter(
            product_id__in=[p.pk for p in products.values()],
            discount__b2b_contract=contract,
            discount__is_active=True,
        )
        .filter(~code_redeemed("discount_id"))
        .values("product_id")
        .annotate(n=Count("pk"))
        .values_list("product_id", "n")
        .order_by()
    )
    run_rows = []
    for run in runs:
        product = products.get(run.pk)
        run_rows.append(
            {
                "courseware_id": run.courseware_id,
                "course": run.course.readable_id,
                "title": run.title,
                "start": run.start_date,
                "end": run.end_date,
                "product_id": product.pk if product else None,
                "price": product.price if product else None,
                "usable_codes": usable.get(product.pk, 0) if product else 0,
                "edx_copy": run.get_edx_copy_state_display(),
                # Only a failed copy's error is news; "not configured" says what it is.
                "edx_error": (
                    run.edx_copy_error or None
                    if run.edx_copy_state == EdxCopyState.FAILED
                    else None
                ),
            }
        )
    courses_with_runs = {run.course_id for run in runs}
    attached = [
        {"type": "program", "readable_id": p.readable_id, "title": p.title, "runs": None}
        for p in contract.programs.order_by("readable_id")
    ] + [
        {
            "type": "course",
            "readable_id": c.readable_id,
            "title": c.title,
            "runs": "yes" if c.pk in courses_with_runs else "none yet",
        }
        for c in contract.courses.order_by("readable_id")
    ]
    return {"runs": run_rows, "attached": attached}


def free_contracts_of(user: User) -> list[ContractPage]:
    """Contracts the learner belongs to that give free enrollment (no price, or 0), by title;
    the learner's dashboard offers their runs."""
    member = ContractMembership.objects.filter(user=user, contract_id=OuterRef("pk"))
    return list(ContractPage.objects.filter(Exists(member)).free().order_by("title", "pk"))
