"""What follows every publish of an organization or a contract page, whoever made it.

Wagtail publishes a page from its edit and create views, from a moderation workflow's approval,
and from its ``publish_scheduled`` command when a draft given a go-live time is due (cron or
beat runs it, with no request and no editor). The services publish the changes they make
themselves. Each publish sends Wagtail's ``page_published`` signal; ``page_published`` below is
its one receiver for b2b pages (wired in ``b2b.apps``). For a contract it requests the code
reconciliation, so the codes follow the terms that went live, whenever they went live; for
both kinds of page it records the change (or the creation) in the audit trail, as the current
actor (the editor in Wagtail, "system" for a scheduled publish).

The services know more than the signal (their own rules on what needs reconciling, and the
fields before their change), so they publish inside ``publishing_by_service`` and do both
themselves; the receiver then leaves that publish alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from wagtail.models import Page, Revision

from b2b.models import ContractPage, OrganizationPage
from b2b.services.audit import fields_of, record_change, record_creation
from b2b.services.codes.reconcile import request_code_reconciliation

# The audit actions of a publish, by page type: (creation, change).
_ACTIONS = {
    ContractPage: ("b2b.contract.create", "b2b.contract.change"),
    OrganizationPage: ("b2b.organization.create", "b2b.organization.change"),
}
# The live fields a page had before the save that publishes it, kept on the instance that the
# signal then receives (Wagtail passes the very object it saved).
_BEFORE = "_b2b_before_publish"

_by_service: ContextVar[frozenset[int]] = ContextVar(
    "b2b_published_by_service", default=frozenset()
)


@contextmanager
def publishing_by_service(page_id: int) -> Iterator[None]:
    """Around a service's own ``revision.publish()``: the service records the change and
    requests the reconciliation itself."""
    token = _by_service.set(_by_service.get() | {page_id})
    try:
        yield
    finally:
        _by_service.reset(token)


def note_fields_before_save(
    page: OrganizationPage | ContractPage, *, update_fields: Iterable[str] | None
) -> None:
    """Before a whole-row save of an existing page (what a publish does), keep the row's
    followed fields and whether it had been published, for ``page_published``. One query; a
    save of some fields only (revisions, tree moves) is not a publish and costs nothing."""
    if page._state.adding or update_fields is not None or page.pk in _by_service.get():
        return
    row = type(page).objects.filter(pk=page.pk).first()
    if row is not None:
        published = row.live and row.first_published_at is not None
        setattr(page, _BEFORE, fields_of(row) if published else None)


def page_published(page: OrganizationPage | ContractPage) -> None:
    """After any publish of ``page``: reconcile a contract's codes and record the change,
    unless a service made it (``publishing_by_service``)."""
    before: dict[str, Any] | None = page.__dict__.pop(_BEFORE, None)
    if page.pk in _by_service.get():
        return
    with transaction.atomic():  # the contract, then its code status: the lock order
        if isinstance(page, ContractPage):
            request_code_reconciliation(page.pk)
        if not page.live:  # a first publish scheduled for later: recorded when it goes live
            return
        current = type(page).objects.get(pk=page.pk)
        created, changed = _ACTIONS[type(page)]
        if before is None:
            record_creation(current, created)
        else:
            record_change(current, changed, before=before)


def give_live_revision(page: Page) -> None:
    """Make the page's live row a published revision, if it has none: pages made by the
    services, or live before Wagtail's history was used. ``page`` (the object an editor's
    change is being published from, or the page just made) learns it too.

    Wagtail reads a live page without a live revision as never published: a change scheduled
    for later would take it offline and write the draft's terms to the row at once (the terms
    the services read, before they are due), and its publish would count as the page's
    creation. The revision holds the row as it is, dated before any other revision of the page
    so that an editor's draft stays the latest; nothing changes, so nothing is recorded.
    """
    with transaction.atomic():
        row = Page.objects.select_for_update().filter(pk=page.pk).first()
        if row is None or not row.live or row.live_revision_id is not None:
            return
        row = row.specific
        now = timezone.now()
        earliest = row.revisions.order_by("created_at").values_list("created_at", flat=True)
        first = earliest.first()
        revision = Revision.objects.create(
            content_object=row,
            base_content_type=row.get_base_content_type(),
            content=row.serializable_data(),
            object_str=str(row),
            created_at=min(first - timedelta(seconds=1), now) if first else now,
        )
        published = {
            "live_revision": revision,
            "first_published_at": row.first_published_at or now,
            "last_published_at": row.last_published_at or now,
        }
        Page.objects.filter(pk=page.pk).update(**published)
        # The editor's revision, saved just before this, carries the page's live revision in
        # its content, and Wagtail's publish reads it from there: it learns it too.
        draft = page.latest_revision
        if draft is not None and draft.pk != revision.pk:
            draft.content["live_revision"] = revision.pk
            draft.save(update_fields=["content"])
    for name, value in published.items():
        setattr(page, name, value)
