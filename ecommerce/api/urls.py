from django.urls import path

from ecommerce.api import views

urlpatterns = [
    path("attach/<str:code>/", views.Attach.as_view(), name="api-attach"),
    path("enroll/<str:courseware_id>/", views.Enroll.as_view(), name="api-enroll"),
]
