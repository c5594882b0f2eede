"""Validators shared by the command line, Wagtail forms and the models."""

import re

from django.core.validators import MaxValueValidator, RegexValidator

# The organization key becomes part of Open edX course keys (course-v1:UAI_<ORG_KEY>+...), so it
# is restricted to characters every Open edX key accepts, in upper case.
ORG_KEY_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{0,39}$"
ORG_KEY_RE = re.compile(ORG_KEY_PATTERN)

# The largest learner cap the database column holds (a PostgreSQL integer). The terms check
# (``contract_terms_errors``: services and the model's ``clean``) refuses a larger cap; Wagtail's
# contract form also puts this validator on the field, so a value the column cannot hold never
# reaches the instance (the form shows the error once, on the field).
MAX_LEARNER_CAP = 2**31 - 1
validate_learner_cap = MaxValueValidator(
    MAX_LEARNER_CAP, message="The learner cap must be at most %(limit_value)s."
)

validate_org_key = RegexValidator(
    ORG_KEY_PATTERN,
    message=(
        "The organization key must be 1 to 40 upper-case letters, digits, '_' or '-', "
        "starting with a letter or digit."
    ),
)


def contract_terms_errors(
    *,
    start_date,
    end_date,
    max_learners: int | None,
    price,
) -> dict[str, str]:
    """Return the problems with a contract's terms, keyed by field name (empty when valid)."""
    errors: dict[str, str] = {}
    if start_date and end_date and end_date < start_date:
        errors["contract_end"] = "The end date must not be before the start date."
    if max_learners is not None and max_learners < 1:
        errors["max_learners"] = "The learner cap must be at least 1 (or no cap at all)."
    elif max_learners is not None and max_learners > MAX_LEARNER_CAP:
        errors["max_learners"] = f"The learner cap must be at most {MAX_LEARNER_CAP}."
    if price is not None and price < 0:
        errors["enrollment_fixed_price"] = "The price must not be negative."
    return errors
