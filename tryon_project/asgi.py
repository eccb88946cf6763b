import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tryon_project.settings")
django_application = get_asgi_application()

from tryon_project.api.asgi_limits import RequestGuard  # noqa: E402 - needs the settings configured above
from tryon_project.api.uvicorn_errors import install_json_parse_errors  # noqa: E402

# The size limit is enforced before Django reads the body (docs/security.md, "Request size").
application = RequestGuard(django_application, max_bytes=lambda: settings.TRYON_MAX_REQUEST_BYTES)
install_json_parse_errors()
