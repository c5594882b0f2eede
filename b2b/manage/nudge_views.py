"""The progress page's nudges: e-mail a reminder to the learners who need attention, the
ticked ones or all of them, through ``b2b.services.progress.nudges`` (which decides who is
flagged, cooling down, or not the contract's at all: a forged id is counted, never nudged)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from b2b.exceptions import B2BError
from b2b.manage.forms import NudgeForm
from b2b.manage.progress_views import cutoffs_now, hidden
from b2b.manage.views import _contract_or_404, _write_limited
from b2b.selectors.progress import shows_learners
from b2b.services.progress.nudges import NudgeOutcome, nudge_learners


def _nudged_message(outcome: NudgeOutcome) -> tuple[str, str]:
    """(level, text) saying what a nudge did."""
    parts = []
    if outcome.queued:
        many = outcome.queued != 1
        parts.append(
            f"{'Reminders' if many else 'A reminder'} to {outcome.queued} "
            f"learner{'s' if many else ''} "
            f"{'are' if many else 'is'} on {'their' if many else 'its'} way."
        )
    if outcome.cooling_down:
        days = settings.B2B_PROGRESS_NUDGE_COOLDOWN_DAYS
        parts.append(
            f"{outcome.cooling_down} reminded less than {days} day{'s' if days != 1 else ''} ago "
            f"{'was' if outcome.cooling_down == 1 else 'were'} not reminded again."
        )
    if outcome.not_flagged:
        parts.append(
            f"{outcome.not_flagged} not needing attention "
            f"{'was' if outcome.not_flagged == 1 else 'were'} left alone."
        )
    no_address = outcome.no_address
    if no_address:
        parts.append(
            f"{no_address} without an account here (known only to Open edX) "
            f"{'was' if no_address == 1 else 'were'} not e-mailed."
        )
    at_limit = outcome.at_limit
    if at_limit:
        parts.append(
            f"{at_limit} e-mailed too often lately "
            f"{'was' if at_limit == 1 else 'were'} not e-mailed; try again tomorrow."
        )
    if not parts:
        return "info", "Nobody needs a reminder now."
    return ("success" if outcome.queued else "info"), " ".join(parts)


@require_POST
@login_required
@_write_limited
def nudge(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    if not shows_learners(contract):
        return hidden(request, contract)
    form = NudgeForm(request.POST)
    if not form.is_valid():
        for error in form.non_field_errors() or ["Choose whom to remind."]:
            messages.error(request, str(error))
        return redirect("manage:progress", contract_id=contract.pk)
    everyone = form.cleaned_data["scope"] == "all"
    try:
        outcome = nudge_learners(
            contract,
            by=request.user,
            cutoffs=cutoffs_now(),
            progress_ids=None if everyone else form.cleaned_data["progress"],
        )
    except B2BError as error:
        messages.error(request, str(error))
    else:
        level, text = _nudged_message(outcome)
        getattr(messages, level)(request, text)
    return redirect("manage:progress", contract_id=contract.pk)
