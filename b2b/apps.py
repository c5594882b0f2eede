from django.apps import AppConfig


class B2bConfig(AppConfig):
    name = "b2b"
    verbose_name = "B2B contracts"

    def ready(self) -> None:
        from b2b.forms import ContractPageForm
        from b2b.models import ContractPage
        from b2b.panels import add_summary_panel

        # Wagtail builds the contract's edit form from this class (the code bound is checked
        # there); set here so that b2b.models does not import the form and the services.
        ContractPage.base_form_class = ContractPageForm
        add_summary_panel()
