from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The worker's one line per generation attempt (Celery task signals).
        from generations import worker_log  # noqa: F401
