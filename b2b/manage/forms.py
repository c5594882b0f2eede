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
