from rest_framework import serializers


class CreditBalanceSerializer(serializers.Serializer):
    creditBalance = serializers.IntegerField()  # the wire name is camelCase
