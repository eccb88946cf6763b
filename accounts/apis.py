from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import authenticated_account
from accounts.selectors import account_credit_balance
from accounts.serializers import CreditBalanceSerializer
from tryon_project.api.schema import error_responses


class AccountCreditsApi(APIView):
    @extend_schema(
        operation_id="getAccountCredits",
        summary="Credit balance",
        tags=["account"],
        responses={200: CreditBalanceSerializer, **error_responses()},
    )
    def get(self, request):
        return Response({"creditBalance": account_credit_balance(account=authenticated_account(request))})
