from rest_framework import serializers


class CreditBalanceSerializer(serializers.Serializer):
    creditBalance = serializers.IntegerField()  # noqa: N815 - wire name
