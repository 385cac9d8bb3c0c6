"""The settings that decide a trained classifier, the DCGAN, the patterns and the intervals: one dataclass per
config section, with the schema's defaults (tests/unit/study/test_settings.py holds them to
workflow/schemas/config.schema.yaml). Pure Python, so the workflow can read them without torch.
"""

from dataclasses import MISSING, dataclass, field, fields

NOT_IN_CONFIG = {"config": False}  # field metadata: recorded in the artifacts, fixed by the code


class SettingsError(ValueError):
    """A settings dict names a key that no setting of its section has, or a value a setting does not take."""


def one_of(*valid: str, default: str):
    """A setting that takes one of a few names (the schema's enum; tests/unit/study/test_settings.py holds them together)."""
    return field(default=default, metadata={"choices": valid})


def choices(settings_class, name: str) -> tuple[str, ...]:
    return next(f.metadata["choices"] for f in fields(settings_class) if f.name == name)


def defaults(settings_class) -> dict:
    """Every setting's default, by name: the one place the API and the command line take them from."""
    return {f.name: f.default for f in fields(settings_class) if f.default is not MISSING}


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
            raise SettingsError(
                f"{cls.__name__} has no setting {', '.join(map(repr, unknown))}; "
                f"valid: {', '.join(valid)}"
            )
        return cls(**values)

    def __post_init__(self):
        for setting in fields(self):
            valid, value = setting.metadata.get("choices"), getattr(self, setting.name)
            if valid and value not in valid:
                raise SettingsError(
                    f"{setting.name} must be one of {', '.join(valid)}, got {value!r}"
                )


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
    grad_mode: str = one_of("step", "exact", "off", default="step")
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
    objective: str = one_of("logit", "log_softmax", "softmax", default="logit")
    optimizer: str = one_of("sgd", "adam", default="sgd")
    latent_constraint: str = one_of("none", "clamp", "sphere", default="none")
    seed: int = 0
    chunk_size: int = 1000
    precision: str = "auto"


@dataclass(frozen=True)
class StatisticsSettings(FromConfig):
    """The `statistics` section: the percentile bootstrap of every interval (memdissect.dissection.statistics)."""

    bootstrap_resamples: int = 2000
    confidence: float = 0.95
    seed: int = 0

    def bootstrap(self) -> dict:
        """The keyword arguments of memdissect.dissection.statistics' bootstrap functions."""
        return {
            "n_resamples": self.bootstrap_resamples,
            "confidence": self.confidence,
            "seed": self.seed,
        }


BOOTSTRAP = (
    StatisticsSettings().bootstrap()
)  # the defaults of the API, the command and memdissect.dissection.statistics
