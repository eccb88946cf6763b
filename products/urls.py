from django.urls import re_path

from products.apis import ProductCollectionApi, ProductDetailApi

# An externalId is one path segment: any character but "/" (refused at upsert, docs/products.md), so
# /products/{id}/stats and /products/{id} never overlap and /products/x/unknown matches no route (404 NOT_FOUND).
# [^/], not ".": line breaks are characters like any other in an id.
# /products/{id}/stats is served by generations (generations/urls.py): the figures are generations' data.
urlpatterns = [
    re_path(r"^products/?$", ProductCollectionApi.as_view(), name="products"),
    re_path(r"^products/(?P<external_id>[^/]+)/?$", ProductDetailApi.as_view(), name="product-detail"),
]
