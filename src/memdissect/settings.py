"""Typed settings built from a config section."""

from dataclasses import fields


class FromConfig:
    """Mixin for frozen dataclasses: build from a dict, ignoring keys that belong to others."""

    @classmethod
    def from_dict(cls, values: dict):
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})
