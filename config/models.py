"""Abstract model bases shared by the apps."""

from django.db import models


class TimestampedModel(models.Model):
    """Records when a row was created and last changed."""

    created_on = models.DateTimeField(auto_now_add=True)
    updated_on = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
