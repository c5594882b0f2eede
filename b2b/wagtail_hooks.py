"""Wagtail admin behaviour for organizations and contracts."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from wagtail import hooks

from b2b.models import ContractPage, OrganizationPage
from b2b.services.codes import request_code_reconciliation
from b2b.services.deletion import deletion_blockers, release_unused_codes
from b2b.views import contract_codes_csv


@hooks.register("register_admin_urls")
def register_b2b_admin_urls():
    return [
        path(
            "b2b/contracts/<int:contract_id>/codes.csv",
            contract_codes_csv,
            name="b2b_contract_codes_csv",
        )
    ]


@hooks.register("after_publish_page")
def reconcile_codes_after_publish(request, page):
    if isinstance(page.specific, ContractPage):
        request_code_reconciliation(page.pk)


@hooks.register("before_delete_page")
def refuse_deleting_contracts_in_use(request, page):
    page = page.specific
    if not isinstance(page, ContractPage | OrganizationPage):
        return None
    reasons = deletion_blockers(page)
    if reasons:
        kind = "contract" if isinstance(page, ContractPage) else "organization"
        messages.error(
            request,
            f"The {kind} {page.title!r} cannot be deleted: {'; '.join(reasons)}. "
            "Deactivate it instead.",
        )
        return redirect("wagtailadmin_pages:edit", page.pk)
    if request.method == "POST":
        release_unused_codes(page)  # inside the delete view's transaction
    return None
