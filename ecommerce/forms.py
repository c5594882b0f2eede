"""Forms of the cart. Only the code is read from the learner; prices never are."""

from django import forms

# The longest code the cart's form takes (a link's code is cut to it before it fills the form).
CODE_MAX_LENGTH = 100


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Enrollment code",
        max_length=CODE_MAX_LENGTH,
        help_text="The code you received from your organization, e.g. 1b4e28ba-2fa1-11d2-883f-…",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip()

    def add_error(self, field, error):
        """Errors move the focus to the field (its error is read out with it)."""
        super().add_error(field, error)
        if field in self.fields:
            self.fields[field].widget.attrs["autofocus"] = True
