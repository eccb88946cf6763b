from django.apps import AppConfig


class GenerationsConfig(AppConfig):
    name = "generations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Generations keep copies of end users' photos: they take part in every erasure the customers app runs.
        from customers.erasure import customer_erasure_participant_register
        from generations.services.erasure import generations_erase_customer

        customer_erasure_participant_register(generations_erase_customer)
        # A queued try-on keeps reading the product images it was accepted with, even after the product changed.
        from generations.selectors import generation_product_keys_in_use
        from tryon_project.storage import blob_holder_register

        blob_holder_register(generation_product_keys_in_use)
        # The worker's one line per generation attempt (Celery task signals).
        from generations import worker_log  # noqa: F401
