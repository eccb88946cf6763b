from django.urls import re_path

from products.apis import ProductCollectionApi, ProductDetailApi, ProductStatsApi

# An externalId may hold any character, "/" included (send it percent-encoded); the stats route is tried first,
# so an id that itself ends in "/stats" cannot be addressed on the detail route (docs/products.md).
# [\s\S], not ".": line breaks are characters like any other in an id.
urlpatterns = [
    re_path(r"^products/?$", ProductCollectionApi.as_view(), name="products"),
    re_path(r"^products/(?P<external_id>[\s\S]+?)/stats/?$", ProductStatsApi.as_view(), name="product-stats"),
    re_path(r"^products/(?P<external_id>[\s\S]+?)/?$", ProductDetailApi.as_view(), name="product-detail"),
]
