"""/api/v1/b2b/ (staff) and /api/v1/me/ (the learner)."""

from django.urls import path

from b2b.api import contract_views, me_views, views

CONTRACT = "contracts/<int:contract_id>/"

urlpatterns = [
    path("organizations/", views.OrganizationList.as_view(), name="api-organizations"),
    path(
        "organizations/<int:organization_id>/",
        views.OrganizationDetail.as_view(),
        name="api-organization",
    ),
    path("contracts/", views.ContractList.as_view(), name="api-contracts"),
    path(CONTRACT, views.ContractDetail.as_view(), name="api-contract"),
    path(f"{CONTRACT}courseware/", contract_views.Courseware.as_view(), name="api-courseware"),
    path(
        f"{CONTRACT}courseware/<str:courseware_id>/",
        contract_views.CoursewareItem.as_view(),
        name="api-courseware-item",
    ),
    path(f"{CONTRACT}codes/", contract_views.Codes.as_view(), name="api-codes"),
    path(f"{CONTRACT}codes.csv", contract_views.CodesCsv.as_view(), name="api-codes-csv"),
    path(f"{CONTRACT}learners/", contract_views.Learners.as_view(), name="api-learners"),
    path(
        f"{CONTRACT}learners/<int:user_id>/",
        contract_views.Learner.as_view(),
        name="api-learner",
    ),
    path(f"{CONTRACT}progress/", contract_views.Progress.as_view(), name="api-progress"),
    path(
        f"{CONTRACT}progress/summary/",
        contract_views.ProgressSummary.as_view(),
        name="api-progress-summary",
    ),
    path(f"{CONTRACT}runs/", contract_views.Runs.as_view(), name="api-runs"),
    path(f"{CONTRACT}runs/requeue/", contract_views.RequeueRuns.as_view(), name="api-requeue"),
]

me_urlpatterns = [
    path("contracts/", me_views.MyContracts.as_view(), name="api-my-contracts"),
]
