"""b2b's public pages: an invitation's link
(``b2b.services.invitations.emails.INVITATION_PATH``)."""

from django.urls import path

from b2b import views

app_name = "b2b"

urlpatterns = [
    path("invitations/<str:token>/", views.invitation, name="invitation"),
]
