"""Learner account forms: registration and sign-in by email."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from users.models import User


class RegistrationForm(UserCreationForm):
    """A new learner: email, full name and a password (typed twice)."""

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("email", "name")
        labels = {"email": "Email", "name": "Full name"}
        widgets = {
            "email": forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True

    def clean_email(self) -> str:
        email = User.objects.normalize_email(self.cleaned_data["email"]).strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Sign in, or reset your password."
            )
        return email


class EmailAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, with the username field presented as the email it is."""

    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def __init__(self, request=None, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(request, *args, **kwargs)

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email or password is not correct. Check them and try again.",
    }
