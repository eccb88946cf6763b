from django.urls import re_path

from products.apis import ProductCollectionApi, ProductDetailApi, ProductStatsApi

# An externalId may hold any character, "/" included (send it percent-encoded); the stats route is tried first,
# so an id that itself ends in "/stats" cannot be addressed on the detail route (docs/products.md).
urlpatterns = [
    re_path(r"^products/?$", ProductCollectionApi.as_view(), name="products"),
    re_path(r"^products/(?P<external_id>.+?)/stats/?$", ProductStatsApi.as_view(), name="product-stats"),
    re_path(r"^products/(?P<external_id>.+?)/?$", ProductDetailApi.as_view(), name="product-detail"),
]
