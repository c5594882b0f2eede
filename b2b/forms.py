"""Wagtail's forms for contracts: the rules the command line applies, for staff too.

- No two contracts of an organization share a name
(``b2b.services.contracts.terms.contract_named``):
  creating, renaming or copying a contract to a taken name is refused on the name field.
- A cap beyond the database column's range, and terms that would give the contract more codes
  than B2B_MAX_CODES_PER_CONTRACT (``b2b.services.codes.bound``), are refused on the cap field,
  whether the page is published or saved as a draft that could be published later; so is a
  cap that would leave an open invitation without its seat (``cap_refusal``).

``b2b.apps.B2bConfig.ready`` gives these forms to ``ContractPage``, so that the models never
import the forms and, through them, the services.
"""

from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.forms.pages import CopyForm

from b2b.exceptions import TooManyCodes
from b2b.models import ContractPage
from b2b.services.codes.bound import check_code_bound
from b2b.services.contracts.terms import contract_named
from b2b.services.memberships import cap_refusal
from b2b.validators import validate_learner_cap

# The terms that decide how many codes a contract gets.
CODE_TERMS = ("integration_type", "max_learners", "enrollment_fixed_price")


def _taken(parent, name: str, exclude_id: int | None = None) -> str | None:
    existing = contract_named(parent=parent, name=name, exclude_id=exclude_id)
    if existing is None:
        return None
    return f"This organization already has a contract named {existing.title!r} (id {existing.pk})."


class ContractPageForm(WagtailAdminPageForm):
    """Creating or editing a contract."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A cap beyond the column's range is this field's error, worded as the command line's.
        self.fields["max_learners"].validators.append(validate_learner_cap)

    def clean(self):
        cleaned_data = super().clean()
        self._check_name(cleaned_data)
        self._check_code_bound(cleaned_data)
        return cleaned_data

    def _check_name(self, cleaned_data) -> None:
        title = cleaned_data.get("title")
        if title and self.parent_page is not None:
            error = _taken(self.parent_page, title, exclude_id=self.instance.pk)
            if error:
                self.add_error("title", error)

    def _check_code_bound(self, cleaned_data) -> None:
        if any(name in self.errors for name in CODE_TERMS):
            return
        terms = ContractPage(
            pk=self.instance.pk,
            **{name: cleaned_data.get(name, getattr(self.instance, name)) for name in CODE_TERMS},
        )
        try:
            check_code_bound(contract=terms)
        except TooManyCodes as exc:
            self.add_error("max_learners", str(exc))
            return
        if self.instance.pk and terms.max_learners != self.instance.max_learners:
            terms.title = self.instance.title
            refusal = cap_refusal(terms, cap=terms.max_learners)
            if refusal:
                self.add_error("max_learners", refusal)


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
