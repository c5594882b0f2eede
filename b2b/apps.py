from django.apps import AppConfig


class B2bConfig(AppConfig):
    name = "b2b"
    verbose_name = "B2B contracts"

    def ready(self) -> None:
        from b2b.forms import ContractCopyForm, ContractPageForm
        from b2b.models import ContractPage
        from b2b.panels import add_managers_panel, add_summary_panel

        # Wagtail builds the contract's edit and copy forms from these classes (names, the code
        # bound); set here so that b2b.models does not import the forms and the services.
        ContractPage.base_form_class = ContractPageForm
        ContractPage.copy_form_class = ContractCopyForm
        add_summary_panel()
        add_managers_panel()
