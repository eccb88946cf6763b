from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Webhooks sit above generations: they subscribe to "generation became terminal" rather than being called.
        from generations.services.lifecycle import generation_terminal_subscribe
        from webhooks.services import webhook_events_schedule

        generation_terminal_subscribe(webhook_events_schedule)
