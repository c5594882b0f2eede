from django.apps import AppConfig


class B2bConfig(AppConfig):
    name = "b2b"
    verbose_name = "B2B contracts"

    def ready(self) -> None:
        from b2b.panels import add_summary_panel

        add_summary_panel()
