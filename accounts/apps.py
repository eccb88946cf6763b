from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import (
            key_cache,  # noqa: F401 - connects the cache's invalidation signals
            schema,  # noqa: F401 - registers the OpenAPI security scheme
        )
