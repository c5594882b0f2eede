"""Wagtail admin behaviour for organizations and contracts."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path
from wagtail import hooks
from wagtail.models import Page

from b2b.models import ContractPage, OrganizationPage
from b2b.panels import HealthPanel
from b2b.services.audit import ACTIONS
from b2b.services.contracts.deletion import (
    deletion_blockers,
    lock_for_deletion,
    release_unused_codes,
)
from b2b.services.contracts.terms import contract_named
from b2b.services.publishing import give_live_revision
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


@hooks.register("before_create_page")
def note_page_creation(request, parent_page, page_class):
    request.b2b_creating_page = True


@hooks.register("before_publish_page")
def give_the_page_a_live_revision(request, page):
    """Before an editor publishes (or schedules) a valid change to an organization or a
    contract, make sure Wagtail knows the live row as a published revision
    (``give_live_revision``). What follows any publish (the codes, the audit trail) is
    ``b2b.services.publishing``'s, for every way a page is published."""
    creating = getattr(request, "b2b_creating_page", False)  # its first publish: a creation
    if isinstance(page, OrganizationPage | ContractPage) and not creating:
        give_live_revision(page)


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
