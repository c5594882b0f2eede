from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = "Courses"

    def ready(self) -> None:
        from config import health_registry

        # The Open edX copy and enrollment-push checks and their repairs (imported when a
        # health report first runs).
        health_registry.register("courses.health")
