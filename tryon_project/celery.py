import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryon_project.settings")

app = Celery("tryon")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _logging_from_settings(**kwargs: object) -> None:
    """Workers and beat log through the project's LOGGING (the web's format, levels and redaction rules) instead of
    Celery's own root-logger setup; a connected receiver is how Celery is told to leave logging alone."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
