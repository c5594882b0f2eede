"""Wagtail's forms for contracts: the rules the command line applies, for staff too.

No two contracts of an organization share a name (``b2b.services.contracts.contract_named``):
creating, renaming or copying a contract to a taken name is refused on the name field.
``b2b.apps`` gives these forms to ``ContractPage``.
"""

from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.forms.pages import CopyForm

from b2b.services.contracts import contract_named


def _taken(parent, name: str, exclude_id: int | None = None) -> str | None:
    existing = contract_named(parent=parent, name=name, exclude_id=exclude_id)
    if existing is None:
        return None
    return f"This organization already has a contract named {existing.title!r} (id {existing.pk})."


class ContractPageForm(WagtailAdminPageForm):
    """Creating or editing a contract."""

    def clean(self):
        cleaned_data = super().clean()
        title = cleaned_data.get("title")
        if title and self.parent_page is not None:
            error = _taken(self.parent_page, title, exclude_id=self.instance.pk)
            if error:
                self.add_error("title", error)
        return cleaned_data


class ContractCopyForm(CopyForm):
    """Copying a contract: the copy's name must be free under the organization it goes to."""

    def clean(self):
        cleaned_data = super().clean()
        title = cleaned_data.get("new_title")
        parent = cleaned_data.get("new_parent_page") or self.page.get_parent()
        if title and parent is not None:
            error = _taken(parent, title)
            if error:
                self.add_error("new_title", error)
        return cleaned_data
