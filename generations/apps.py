from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Generations keep copies of end users' photos: they take part in every erasure the customers app runs.
        from customers.erasure import customer_erasure_participant_register
        from generations.services.erasure import generations_erase_customer

        customer_erasure_participant_register(generations_erase_customer)
        # The worker's one line per generation attempt (Celery task signals).
        from generations import worker_log  # noqa: F401
