from django.apps import AppConfig


class EcommerceConfig(AppConfig):
    name = "ecommerce"
    verbose_name = "Ecommerce"

    def ready(self):
        from config import health_registry
        from ecommerce import checks  # noqa: F401  (registers the system checks)

        # The order and code checks of the health report (imported when a report first runs).
        health_registry.register("ecommerce.health")
