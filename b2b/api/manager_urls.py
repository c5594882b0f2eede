"""/api/v1/manager/: the organization manager's API (docs/api.md, "Managers")."""

from django.urls import path

from b2b.api import manager_invitation_views as iv
from b2b.api import manager_progress_views as pv
from b2b.api import manager_views as v

CONTRACT = "contracts/<int:contract_id>/"
INVITATION = f"{CONTRACT}invitations/<int:invitation_id>/"
JOB = f"{CONTRACT}jobs/<int:job_id>/"

urlpatterns = [
    path("organizations/", v.Organizations.as_view(), name="api-manager-organizations"),
    path(
        "organizations/<int:organization_id>/",
        v.Organization.as_view(),
        name="api-manager-organization",
    ),
    path("contracts/", v.Contracts.as_view(), name="api-manager-contracts"),
    path(
        "organizations/<int:organization_id>/progress/",
        pv.OrganizationProgress.as_view(),
        name="api-manager-organization-progress",
    ),
    path(CONTRACT, v.Contract.as_view(), name="api-manager-contract"),
    path(f"{CONTRACT}progress/", pv.ContractProgress.as_view(), name="api-manager-progress"),
    path(
        f"{CONTRACT}progress/summary/",
        pv.ContractProgressSummary.as_view(),
        name="api-manager-progress-summary",
    ),
    path(f"{CONTRACT}learners/", v.Learners.as_view(), name="api-manager-learners"),
    path(f"{CONTRACT}invitations/", iv.Invitations.as_view(), name="api-manager-invitations"),
    path(f"{CONTRACT}invitations/bulk/", iv.BulkInvite.as_view(), name="api-manager-bulk"),
    path(f"{CONTRACT}invitations/remind/", iv.RemindAll.as_view(), name="api-manager-remind-all"),
    path(INVITATION, iv.InvitationDetail.as_view(), name="api-manager-invitation"),
    path(f"{INVITATION}remind/", iv.Remind.as_view(), name="api-manager-remind"),
    path(f"{INVITATION}revoke/", iv.Revoke.as_view(), name="api-manager-revoke"),
    path(f"{CONTRACT}jobs/", iv.Jobs.as_view(), name="api-manager-jobs"),
    path(JOB, iv.Job.as_view(), name="api-manager-job"),
    path(f"{JOB}results/", iv.JobResults.as_view(), name="api-manager-job-results"),
]
