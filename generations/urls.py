from django.urls import re_path

from generations.apis import GenerationDetailApi, ProductStatsApi, TryOnApi, tryon_sync_view

urlpatterns = [
    re_path(r"^try-on/?$", TryOnApi.as_view(), name="try-on"),
    re_path(r"^try-on/sync/?$", tryon_sync_view, name="try-on-sync"),
    re_path(r"^generations/(?P<generation_id>[^/]+)/?$", GenerationDetailApi.as_view(), name="generation-detail"),
    # A catalog path whose figures are generations' (the same one-segment id as the catalog's routes).
    re_path(r"^products/(?P<external_id>[^/]+)/stats/?$", ProductStatsApi.as_view(), name="product-stats"),
]
