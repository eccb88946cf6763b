from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.http import require_safe
from django.views.generic import RedirectView
from drf_spectacular.renderers import OpenApiJsonRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from tryon_project import health
from tryon_project.storage import signed_file_view

admin.site.site_header = "Try-On dashboard"
admin.site.site_title = "Try-On dashboard"
admin.site.index_title = "Dashboard"
# There is no public site behind the dashboard: no "View site" link.
admin.site.site_url = None
# The app list is one click away (Home); without the side bar, tables with thumbnails fit a laptop screen.
admin.site.enable_nav_sidebar = False


class PublicSchemaView(SpectacularAPIView):
    renderer_classes = [OpenApiJsonRenderer]
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


class PublicDocsView(SpectacularSwaggerView):
    authentication_classes = []
    permission_classes = []
    throttle_classes = []


@require_safe
def quickstart_view(request):
    """docs/quickstart.md as text, so the docs page (which links here) leads a newcomer to the first try-on."""
    text = (settings.BASE_DIR / "docs" / "quickstart.md").read_text(encoding="utf-8")
    return HttpResponse(text, content_type="text/plain; charset=utf-8")


api_patterns = [
    re_path(r"^openapi\.json/?$", PublicSchemaView.as_view(), name="openapi"),
    re_path(r"^docs/?$", PublicDocsView.as_view(url_name="openapi"), name="docs"),
    re_path(r"^docs/quickstart/?$", quickstart_view, name="docs-quickstart"),
    path("", include("accounts.urls")),
    # Generations also serve one catalog path, /products/{externalId}/stats (the figures are theirs).
    path("", include("generations.urls")),
    path("", include("products.urls")),
    path("", include("customers.urls")),
]

urlpatterns = [
    path("tryon/v1/", include(api_patterns)),
    # The playground's short address; the page itself lives with the generations pages of the dashboard.
    path(
        "dashboard/try-on/",
        RedirectView.as_view(pattern_name="admin:generations_generation_playground", query_string=True),
    ),
    path("dashboard/", admin.site.urls),
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("files/<path:key>", signed_file_view, name="signed-file"),
]

if settings.TRYON_BENCH_VIEWS:
    from tryon_project.bench_views import bare_generation_view

    urlpatterns.append(path("bench/bare", bare_generation_view))
