"""A read-only summary of a contract for its Wagtail edit view.

The panel is added to ``ContractPage.content_panels`` when the app is ready
(``b2b.apps.B2bConfig.ready``), so that the models never import the panel and, through it, the
selectors that read them.
"""

from django.urls import reverse
from django.utils import timezone
from wagtail.admin.panels import Panel
from wagtail.admin.ui.components import Component

from b2b.models import AttentionCutoffs, ContractPage, OrganizationPage
from b2b.selectors.listings import contract_summary
from b2b.selectors.managers import manager_rows
from b2b.selectors.progress import progress_summary
from b2b.selectors.progress_sync import run_sync_states
from b2b.services.health.report import contract_label, health_report


class ContractSummaryPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "b2b/panels/contract_summary.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            contract = self.instance
            context["contract"] = contract
            if not contract.pk:
                return context
            summary = contract_summary(contract)
            context.update(
                runs=summary.runs,
                learners=summary.learners,
                codes=summary.codes,
                code_status=summary.code_status,
                renews=summary.renews,
                renewals=summary.renewals,
                csv_url=(
                    reverse("b2b_contract_codes_csv", args=[contract.pk])
                    if self.request and self.request.user.is_staff
                    else None
                ),
                # Staff's view: every count shown, and the learners Open edX has that we
                # could not match (an editor who is not staff sees what managers see).
                progress=progress_summary(
                    contract,
                    AttentionCutoffs.at(timezone.now()),
                    staff=bool(self.request and self.request.user.is_staff),
                ),
                sync_states=run_sync_states(contract.pk),
            )
            return context


def add_summary_panel() -> None:
    """Show the summary at the end of the contract's edit form (once)."""
    if not any(isinstance(panel, ContractSummaryPanel) for panel in ContractPage.content_panels):
        ContractPage.content_panels = [
            *ContractPage.content_panels,
            ContractSummaryPanel(heading="Runs, learners, codes and progress"),
        ]


class HealthPanel(Component):
    """The health report's findings on the Wagtail dashboard, for staff
    (``construct_homepage_panels`` in ``b2b.wagtail_hooks``)."""

    name = "b2b_health"
    order = 50
    template_name = "b2b/panels/health.html"
    shown = 20  # findings listed; the rest are counted

    def get_context_data(self, parent_context=None):
        context = super().get_context_data(parent_context)
        report = health_report()
        context.update(
            findings=[(f, contract_label(f)) for f in report.findings[: self.shown]],
            total=len(report.findings),
            hidden=max(len(report.findings) - self.shown, 0),
            contracts=report.contracts_checked,
        )
        return context


class OrganizationManagersPanel(Panel):
    """The organization's managers, read-only, with a link to the page that grants and removes
    the role (managers are not part of the page's revisions)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "b2b/panels/organization_managers.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            organization = self.instance
            context["organization"] = organization
            if organization.pk:
                context["managers"] = manager_rows(organization)
                context["manage_url"] = reverse("b2b_organization_managers", args=[organization.pk])
            return context


def add_managers_panel() -> None:
    """Show the managers at the end of the organization's edit form (once)."""
    if not any(
        isinstance(panel, OrganizationManagersPanel) for panel in OrganizationPage.content_panels
    ):
        OrganizationPage.content_panels = [
            *OrganizationPage.content_panels,
            OrganizationManagersPanel(heading="Managers"),
        ]
