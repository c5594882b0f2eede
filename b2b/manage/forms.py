"""Forms of the manager pages. Each reads only the fields its page renders; the contract and
the invitation come from the URL, checked against the manager's organizations."""

from django import forms

from b2b.exceptions import UploadRefused
from b2b.services.invitations.uploads import UploadRow, read_invite_file


class _Form(forms.Form):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class InviteForm(_Form):
    email = forms.CharField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    name = forms.CharField(label="Name (optional)", max_length=255, required=False)


class UploadForm(_Form):
    file = forms.FileField(
        label="CSV file",
        help_text='One e-mail address a line, under a header "email" (and, if you like, "name").',
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> list[UploadRow]:
        try:
            return read_invite_file(self.cleaned_data["file"])
        except UploadRefused as error:
            raise forms.ValidationError(str(error)) from None


class SearchForm(_Form):
    q = forms.CharField(label="Search learners", max_length=100, required=False)
    page = forms.IntegerField(min_value=1, required=False)
    ipage = forms.IntegerField(min_value=1, required=False)


class ProgressQueryForm(_Form):
    """The learners' progress table's query string: search, filter, sort and page. A value the
    page never offers (a forged sort or filter) is dropped: the table is shown unfiltered, by
    name."""

    q = forms.CharField(
        label="Search by name, e-mail or Open edX username", max_length=100, required=False
    )
    page = forms.IntegerField(min_value=1, required=False)

    def __init__(self, *args, filters: dict[str, str], sorts: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["show"] = forms.ChoiceField(
            choices=[("", "Everyone"), *filters.items()], required=False
        )
        self.fields["sort"] = forms.ChoiceField(
            choices=[(s, s) for s in sorts] + [(f"-{s}", s) for s in sorts], required=False
        )

    def value(self, name: str, default=""):
        """The field's clean value, or ``default`` when missing or not one the page offers."""
        self.is_valid()
        if name in self.errors:
            return default
        return self.cleaned_data.get(name) or default


class IdListField(forms.Field):
    """The values of the ticked checkboxes of one name, as whole numbers."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value or []
        try:
            ids = {int(v) for v in values}
        except (TypeError, ValueError):
            raise forms.ValidationError("These learners cannot be read.") from None
        # an id no row can have (a forged 2**63, say) is dropped, not sent to the database
        return sorted(i for i in ids if 0 < i < 2**63)


class NudgeForm(_Form):
    """The progress page's nudge form: the ticked rows (``progress``), and which button was
    pressed (``scope``: the ticked rows, or everyone who needs attention)."""

    scope = forms.ChoiceField(choices=[("selected", "selected"), ("all", "all")])
    progress = IdListField(required=False)

    def clean(self):
        cleaned = super().clean() or {}
        if cleaned.get("scope") == "selected" and not cleaned.get("progress"):
            raise forms.ValidationError("Tick the learners to remind first.")
        return cleaned


class DigestForm(_Form):
    wants_digest = forms.BooleanField(
        label="E-mail me a weekly progress digest of this organization's contracts",
        required=False,
    )


class RefreshForm(_Form):
    """The "Refresh from Open edX" button: ``back`` is the page it was pressed on."""

    back = forms.ChoiceField(choices=[("contract", "contract"), ("progress", "progress")])
