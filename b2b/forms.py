"""Wagtail's edit form for contracts: the code bound is checked before a contract is saved.

``b2b.apps.B2bConfig.ready`` makes it the contract's ``base_form_class``, so that the models never
import the form and, through it, the services.
"""

from wagtail.admin.forms import WagtailAdminPageForm

from b2b.exceptions import TooManyCodes
from b2b.models import ContractPage
from b2b.services.code_bound import check_code_bound
from b2b.validators import validate_learner_cap

# The terms that decide how many codes a contract gets.
CODE_TERMS = ("integration_type", "max_learners", "enrollment_fixed_price")


class ContractPageForm(WagtailAdminPageForm):
    """Refuses, as an error on the cap, a cap beyond the database column's range and terms that
    would give the contract more codes than B2B_MAX_CODES_PER_CONTRACT
    (``b2b.services.code_bound``), whether the page is published or saved as a draft that could
    be published later."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A cap beyond the column's range is this field's error, worded as the command line's.
        self.fields["max_learners"].validators.append(validate_learner_cap)

    def clean(self):
        cleaned_data = super().clean()
        if any(name in self.errors for name in CODE_TERMS):
            return cleaned_data
        terms = ContractPage(
            pk=self.instance.pk,
            **{name: cleaned_data.get(name, getattr(self.instance, name)) for name in CODE_TERMS},
        )
        try:
            check_code_bound(contract=terms)
        except TooManyCodes as exc:
            self.add_error("max_learners", str(exc))
        return cleaned_data
