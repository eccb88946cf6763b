from django.urls import re_path

from customers.apis import CustomerEraseApi, ImageUploadApi

urlpatterns = [
    re_path(r"^images/upload/?$", ImageUploadApi.as_view(), name="images-upload"),
    # [\s\S], not ".": a customer id is any string, line breaks included (percent-encoded), not a route miss.
    re_path(r"^customers/(?P<customer_id>[\s\S]+?)/?$", CustomerEraseApi.as_view(), name="customer-erase"),
]
