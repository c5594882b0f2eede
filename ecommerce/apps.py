from django.apps import AppConfig


class EcommerceConfig(AppConfig):
    name = "ecommerce"
    verbose_name = "Ecommerce"

    def ready(self):
        from ecommerce import checks  # noqa: F401  (registers the system checks)
