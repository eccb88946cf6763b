from django.apps import AppConfig


class TryonProjectConfig(AppConfig):
    name = "tryon_project"
    verbose_name = "Platform"
