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
        _follow_publishes()


def _follow_publishes() -> None:
    """Every publish of an organization or a contract, by any way (b2b.services.publishing)."""
    from django.db.models.signals import pre_save
    from wagtail.signals import page_published

    from b2b.models import ContractPage, OrganizationPage
    from b2b.services import publishing

    def before_save(sender, instance, update_fields=None, **kwargs):
        publishing.note_fields_before_save(instance, update_fields=update_fields)

    def after_publish(sender, instance, **kwargs):
        publishing.page_published(instance)

    for model in (OrganizationPage, ContractPage):
        pre_save.connect(before_save, sender=model, weak=False, dispatch_uid=f"b2b-{model}-save")
        page_published.connect(
            after_publish, sender=model, weak=False, dispatch_uid=f"b2b-{model}-published"
        )
