"""Wagtail admin behaviour for organizations and contracts."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect
from django.urls import path
from wagtail import hooks
from wagtail.models import Page

from b2b.models import ContractPage, OrganizationPage
from b2b.panels import HealthPanel
from b2b.services.audit import ACTIONS, fields_of, record_change, record_creation
from b2b.services.codes import request_code_reconciliation
from b2b.services.contracts import contract_named
from b2b.services.deletion import deletion_blockers, lock_for_deletion, release_unused_codes
from b2b.views import contract_codes_csv, organization_managers


@hooks.register("register_log_actions")
def register_audit_actions(actions):
    """The audit trail's actions (b2b.services.audit), so each shows in a page's History."""
    for action, label in ACTIONS.items():
        actions.register_action(action, label, label)


@hooks.register("register_admin_urls")
def register_b2b_admin_urls():
    return [
        path(
            "b2b/contracts/<int:contract_id>/codes.csv",
            contract_codes_csv,
            name="b2b_contract_codes_csv",
        ),
        path(
            "b2b/organizations/<int:organization_id>/managers/",
            organization_managers,
            name="b2b_organization_managers",
        ),
    ]


# The audit actions of an editor's publish in Wagtail: (creation, change), by page type.
_PUBLISH_ACTIONS = {
    ContractPage: ("b2b.contract.create", "b2b.contract.change"),
    OrganizationPage: ("b2b.organization.create", "b2b.organization.change"),
}


@hooks.register("before_create_page")
def note_page_creation(request, parent_page, page_class):
    request.b2b_creating_page = True


@hooks.register("before_publish_page")
def note_fields_before_publish(request, page):
    """Keep the page's live fields (still in its row: a draft of a live page lives in its
    revisions) for the audit record made after the publish; ``None`` for a page being created
    or never live before."""
    model = type(page.specific)
    if model in _PUBLISH_ACTIONS:
        row = model.objects.get(pk=page.pk)
        creating = getattr(request, "b2b_creating_page", False) or not row.live
        request.b2b_fields_before_publish = None if creating else fields_of(row)


@hooks.register("after_publish_page")
def record_publish(request, page):
    """Record the editor's change of the terms (or the page's creation) in the audit trail."""
    model = type(page.specific)
    if model not in _PUBLISH_ACTIONS or not hasattr(request, "b2b_fields_before_publish"):
        return
    created, changed = _PUBLISH_ACTIONS[model]
    before = request.b2b_fields_before_publish
    current = model.objects.get(pk=page.pk)
    if before is None:
        if current.live:  # not a publish scheduled for later
            record_creation(current, created)
    else:
        record_change(current, changed, before=before)


@hooks.register("after_publish_page")
def reconcile_codes_after_publish(request, page):
    if isinstance(page.specific, ContractPage):
        with transaction.atomic():  # the contract, then its code status: the lock order
            request_code_reconciliation(page.pk)


@hooks.register("before_move_page")
def refuse_moving_a_contract_to_a_taken_name(request, page, destination):
    if not isinstance(page, ContractPage):
        return None
    existing = contract_named(parent=destination, name=page.title, exclude_id=page.pk)
    if existing is None:
        return None
    messages.error(
        request,
        f"{page.title!r} cannot move there: {destination.title!r} already has a contract named "
        f"{existing.title!r} (id {existing.pk}). Rename one of them first.",
    )
    return redirect("wagtailadmin_pages:move", page.pk)


def _refusal(request, pages):
    """A redirect explaining why ``pages`` cannot be deleted, or None when they can."""
    refused = [(page, reasons) for page in pages if (reasons := deletion_blockers(page))]
    if not refused:
        return None
    for page, reasons in refused:
        messages.error(
            request,
            f"{page.title!r} cannot be deleted: {'; '.join(reasons)}. "
            "Deactivate the contract instead.",
        )
    return redirect("wagtailadmin_pages:edit", refused[0][0].pk)


@hooks.register("before_delete_page")
def refuse_deleting_contracts_in_use(request, page):
    if request.method == "POST":  # the delete view's transaction holds them until the delete
        lock_for_deletion([page])
    response = _refusal(request, [page])
    if response is None and request.method == "POST":
        release_unused_codes(page)  # inside the delete view's transaction
    return response


@hooks.register("before_bulk_action")
def refuse_bulk_deleting_contracts_in_use(request, action_type, objects, action_class_instance):
    if action_type != "delete":
        return None
    pages = [obj for obj in objects if isinstance(obj, Page)]
    lock_for_deletion(pages)  # all of them at once, by ascending id: overlapping bulk deletes wait
    response = _refusal(request, pages)
    if response is None:
        for page in pages:
            release_unused_codes(page)
    return response


@hooks.register("construct_homepage_panels")
def add_health_panel(request, panels):
    """The health report's findings on the dashboard, for staff only."""
    if request.user.is_staff:
        panels.append(HealthPanel())
