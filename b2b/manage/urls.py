"""URLs of the manager pages, mounted at /manage/ by config/urls.py."""

from django.urls import path

from b2b.manage import nudge_views, progress_views, views

app_name = "manage"

urlpatterns = [
    path("", views.home, name="home"),
    path("organizations/<int:org_id>/", views.organization, name="organization"),
    path("organizations/<int:org_id>/digest/", progress_views.digest, name="digest"),
    path("contracts/<int:contract_id>/", views.contract, name="contract"),
    path("contracts/<int:contract_id>/progress/", progress_views.progress, name="progress"),
    path(
        "contracts/<int:contract_id>/progress.csv",
        progress_views.progress_csv,
        name="progress-csv",
    ),
    path(
        "contracts/<int:contract_id>/progress/refresh/",
        progress_views.refresh,
        name="progress-refresh",
    ),
    path(
        "contracts/<int:contract_id>/progress/nudge/",
        nudge_views.nudge,
        name="progress-nudge",
    ),
    path("contracts/<int:contract_id>/codes.csv", views.codes_csv, name="codes-csv"),
    path("contracts/<int:contract_id>/learners.csv", views.learners_csv, name="learners-csv"),
    path("contracts/<int:contract_id>/invite/", views.invite_one, name="invite"),
    path("contracts/<int:contract_id>/invite-many/", views.invite_many, name="invite-many"),
    path("contracts/<int:contract_id>/remind-all/", views.remind_all, name="remind-all"),
    path(
        "contracts/<int:contract_id>/invitations/<int:invitation_id>/remind/",
        views.remind_one,
        name="remind",
    ),
    path(
        "contracts/<int:contract_id>/invitations/<int:invitation_id>/revoke/",
        views.revoke_one,
        name="revoke",
    ),
    path("contracts/<int:contract_id>/jobs/<int:job_id>/", views.job, name="job"),
    path(
        "contracts/<int:contract_id>/jobs/<int:job_id>/status/", views.job_status, name="job-status"
    ),
    path(
        "contracts/<int:contract_id>/jobs/<int:job_id>/results.csv",
        views.job_results_csv,
        name="job-results",
    ),
]
