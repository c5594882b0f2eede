"""A model admin that lists a column the model does not have (Django's check admin.E108)."""

from django.contrib import admin
from django.contrib.sessions.models import Session


@admin.register(Session)
class BrokenSessionAdmin(admin.ModelAdmin):
    list_display = ("no_such_column",)
