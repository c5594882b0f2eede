"""Wagtail's edit form for contracts: the rules the command line applies, for staff too."""

from wagtail.admin.forms import WagtailAdminPageForm


class ContractPageForm(WagtailAdminPageForm):
    """Refuses a name another contract of the organization already has (the rule is
    ``ContractPage.objects.named``; ``create_contract`` refuses it on the command line)."""

    def clean(self):
        cleaned_data = super().clean()
        title = cleaned_data.get("title")
        if title and self.parent_page is not None:
            same = type(self.instance).objects.of_organization(self.parent_page).named(title)
            if self.instance.pk:
                same = same.exclude(pk=self.instance.pk)
            existing = same.first()
            if existing is not None:
                self.add_error(
                    "title",
                    f"This organization already has a contract named {existing.title!r} "
                    f"(id {existing.pk}).",
                )
        return cleaned_data
