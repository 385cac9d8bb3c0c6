"""The settings that decide a trained classifier, the DCGAN and the patterns: one dataclass per
config section, with the schema's defaults (tests/test_settings.py holds them to
workflow/schemas/config.schema.yaml). Pure Python, so the workflow can read them without torch.
"""

from dataclasses import dataclass, field, fields

NOT_IN_CONFIG = {"config": False}  # field metadata: recorded in the artifacts, fixed by the code


class SettingsError(ValueError):
    """A settings dict names a key that no setting of its section has."""


def config_keys(settings_class) -> tuple[str, ...]:
    """The fields of a settings class that a config section sets, in field order."""
    return tuple(f.name for f in fields(settings_class) if f.metadata.get("config", True))


class FromConfig:
    """Mixin for frozen dataclasses: build from a config dict, refusing keys the section does not have."""

    @classmethod
    def from_dict(cls, values: dict):
        valid = config_keys(cls)
        unknown = [key for key in values if key not in valid]
        if unknown:
            raise SettingsError(f"{cls.__name__} has no setting {', '.join(map(repr, unknown))}; "
                                f"valid: {', '.join(valid)}")
        return cls(**values)


@dataclass(frozen=True)
class ClassifierSettings(FromConfig):
    """Everything that decides a trained classifier's weights: `training` keys plus the model group's."""

    arch: str
    width: float = 1.0
    seed: int = 1
    num_classes: int = 10
    epochs: int = 100
    batch_size: int = 128
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    augment: bool = False
    grad_mode: str = "step"
    precision: str = "auto"


@dataclass(frozen=True)
class GanSettings(FromConfig):
    """The `gan` section."""

    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    width: float = 1.0
    seed: int = 0
    latent_dim: int = field(default=100, metadata=NOT_IN_CONFIG)  # models.dcgan.LATENT_DIM
    precision: str = "auto"


@dataclass(frozen=True)
class PatternSettings(FromConfig):
    """The `patterns` section."""

    starts: int = 100
    iterations: int = 1000
    lr: float = 0.05
    objective: str = "logit"
    optimizer: str = "sgd"
    latent_constraint: str = "none"
    seed: int = 0
    chunk_size: int = 1000
    precision: str = field(default="fp32", metadata=NOT_IN_CONFIG)
