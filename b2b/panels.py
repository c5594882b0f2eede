"""A read-only summary of a contract for its Wagtail edit view."""

from django.urls import reverse
from wagtail.admin.panels import Panel


class ContractSummaryPanel(Panel):
    class BoundPanel(Panel.BoundPanel):
        template_name = "b2b/panels/contract_summary.html"

        def get_context_data(self, parent_context=None):
            from b2b.models import ContractCodeStatus
            from b2b.selectors import courseware_listing
            from ecommerce.selectors import ContractCodeCounts, contract_code_counts

            context = super().get_context_data(parent_context)
            contract = self.instance
            context["contract"] = contract
            if not contract.pk:
                return context
            status = ContractCodeStatus.objects.filter(pk=contract.pk).first()
            context.update(
                runs=courseware_listing(contract).runs,
                learners=contract.memberships.count(),
                codes=contract_code_counts([contract.pk]).get(contract.pk, ContractCodeCounts()),
                code_status=status,
                csv_url=(
                    reverse("b2b_contract_codes_csv", args=[contract.pk])
                    if self.request and self.request.user.is_staff
                    else None
                ),
            )
            return context
