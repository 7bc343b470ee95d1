"""What every request body the JSON API reads shares: unknown fields are an error.

A field the app sends that the API does not know is usually a typo or an old app; saying
so beats ignoring it silently.
"""

from rest_framework import serializers


class StrictRequestSerializer(serializers.Serializer):
    """A request serializer that refuses fields it does not declare, naming them."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field: this endpoint does not take it."] for name in unknown}
                )
        return super().to_internal_value(data)
