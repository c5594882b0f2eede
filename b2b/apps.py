from django.apps import AppConfig


class B2bConfig(AppConfig):
    name = "b2b"
    verbose_name = "B2B contracts"

    def ready(self) -> None:
        from b2b.forms import ContractCopyForm, ContractPageForm
        from b2b.models import ContractPage

        # Wagtail's contract forms refuse a name the organization already has; set here so
        # that the models do not import the forms above them.
        ContractPage.base_form_class = ContractPageForm
        ContractPage.copy_form_class = ContractCopyForm
