from django.urls import re_path

from generations.apis import CustomerEraseApi, GenerationDetailApi, TryOnApi, tryon_sync_view

urlpatterns = [
    re_path(r"^try-on/?$", TryOnApi.as_view(), name="try-on"),
    re_path(r"^try-on/sync/?$", tryon_sync_view, name="try-on-sync"),
    re_path(r"^generations/(?P<generation_id>[^/]+)/?$", GenerationDetailApi.as_view(), name="generation-detail"),
    # [\s\S], not ".": a customer id is any string, line breaks included (percent-encoded), not a route miss.
    re_path(r"^customers/(?P<customer_id>[\s\S]+?)/?$", CustomerEraseApi.as_view(), name="customer-erase"),
]
