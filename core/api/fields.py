"""Serializer fields that take only the JSON types the schema gives.

DRF quietly turns 0 into False and 42 into "42". A program that sends the wrong type has
a bug worth hearing about, so JSON bodies must carry the types the schema gives.
"""

from decimal import Decimal
from typing import TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

_M = TypeVar("_M", bound=models.Model)


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": _("Send text (a JSON string).")}

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": _("Send true or false.")}

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": _("Send a whole number (a JSON number).")}

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField[_M]):
    def to_internal_value(self, data: object) -> _M:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        # The stubs take a model instance here; DRF takes the primary key.
        return super().to_internal_value(data)  # type: ignore[arg-type]


class StrictSlugRelatedField(serializers.SlugRelatedField[_M]):
    """A code: text without NUL bytes (PostgreSQL cannot even compare those)."""

    def to_internal_value(self, data: object) -> _M:
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "decimal"}, {"type": "number"}],
        "description": 'A decimal amount, as a string ("1250.50", as it is returned) or a number.',
    }
)
class AmountField(serializers.DecimalField):
    """Decimals are returned as strings (exact); a number is accepted too, as documented."""

    def to_internal_value(self, data: object) -> Decimal:
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer[_M]):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
        models.DecimalField: AmountField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField
