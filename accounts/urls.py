from django.urls import re_path

from accounts.apis import AccountCreditsApi

urlpatterns = [
    re_path(r"^account/credits/?$", AccountCreditsApi.as_view(), name="account-credits"),
]
