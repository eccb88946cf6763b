from django.urls import re_path

from customers.apis import ImageUploadApi

urlpatterns = [
    re_path(r"^images/upload/?$", ImageUploadApi.as_view(), name="images-upload"),
]
