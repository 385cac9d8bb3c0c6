"""Any config values either plan a study or fail with a ConfigError naming the key: never a traceback.

Hypothesis draws values for keys of config/demo.yaml (noise, epochs, lr, seeds, architectures,
starts, names that refer to conditions and networks) and runs the checks of common.smk on them.
"""

import math
import re

from config_checks import SCHEMA, demo_config, validate_config, value_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memdissect.study import design, schema
from memdissect.study.architectures import BUILT_IN_SOURCES

KEEP = object()
TEXT = st.text(max_size=6)
NUMBERS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 300))
ANYTHING = st.one_of(
    NUMBERS, TEXT, st.booleans(), st.none(), st.lists(st.integers(-1, 3), max_size=2)
)
CONDITIONS = list(demo_config()["conditions"])


def maybe(strategy):
    """Most draws change a value, some leave the demo's."""
    return st.one_of(st.just(KEEP), strategy)


MUTATIONS = {
    ("conditions", "noise0.5", "noise"): maybe(st.one_of(st.floats(-0.5, 1.5), ANYTHING)),
    ("conditions", "random_labels", "noise"): maybe(st.floats(0, 1)),
    ("training", "epochs"): maybe(st.one_of(st.integers(-2, 30), ANYTHING)),
    ("training", "lr"): maybe(st.one_of(st.floats(-1, 1), ANYTHING)),
    ("training", "batch_size"): maybe(st.integers(-4, 256)),
    ("models", 0, "seeds"): maybe(st.one_of(st.lists(st.integers(-1, 4), max_size=4), ANYTHING)),
    ("models", 0, "arch"): maybe(st.one_of(st.sampled_from(tuple(BUILT_IN_SOURCES)), TEXT)),
    ("models", 1, "conditions"): maybe(
        st.lists(st.sampled_from([*CONDITIONS, "noise0.7"]), max_size=3)
    ),
    ("models", 2, "width"): maybe(st.one_of(st.floats(-1, 2), ANYTHING)),
    ("patterns", "starts"): maybe(st.one_of(st.integers(-2, 20), ANYTHING)),
    ("patterns", "iterations"): maybe(st.integers(-2, 2000)),
    ("dissection", "all_pairs"): maybe(
        st.one_of(st.lists(st.sampled_from([*CONDITIONS, "nope"]), max_size=2), ANYTHING)
    ),
    ("dissection", "reference"): maybe(
        st.sampled_from(["vgg11-s1", "vgg11-s3", "vgg13-s1", "vgg11", "vgg16-s1"])
    ),
    ("figures", "figure5", "conditions"): maybe(
        st.lists(st.sampled_from([*CONDITIONS, "noise"]), max_size=3)
    ),
    ("dataset", "kind"): maybe(st.sampled_from(["synthetic", "imagefolder", "cifar"])),
}
TOP_LEVEL_KEYS = set(schema.load_schema(str(SCHEMA))["properties"])
KEY_PATH = re.compile(r"^(\w+)[\w.\-\[\]]*: ")


def mutated(values: dict) -> tuple[dict, list[str]]:
    config = demo_config()
    changed = []
    for path, value in values.items():
        if value is KEEP:
            continue
        value_at(config, path[:-1])[path[-1]] = value
        changed.append(schema.key_path(path))
    return config, changed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries(MUTATIONS))
def test_config_values_plan_a_study_or_fail_naming_the_key(values):
    config, _ = mutated(values)
    try:
        validate_config(config)
    except schema.ConfigError as error:
        message = str(error)
        head = KEY_PATH.match(message)
        assert head and head.group(1) in TOP_LEVEL_KEYS, message
        assert "\n" not in message
        return
    classifiers = design.expand_classifiers(config)
    pairs = design.dissection_pairs(config, classifiers)
    assert classifiers and all(f1 in classifiers and f2 in classifiers for f1, f2 in pairs)
    for classifier in classifiers.values():
        settings_ = classifier.settings
        assert (
            0 <= classifier.noise <= 1
            and isinstance(settings_["epochs"], int)
            and settings_["epochs"] >= 1
        )
        assert (
            math.isfinite(settings_["lr"]) and settings_["lr"] > 0 and settings_["batch_size"] >= 1
        )
        assert classifier.arch in tuple(BUILT_IN_SOURCES)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(MUTATIONS, key=str)), ANYTHING)
def test_one_bad_value_is_named_by_its_key(path, value):
    """With one key changed, a refusal names a key of its section, or one that refers to it by name."""
    config, _ = mutated({path: value})
    try:
        validate_config(config)
    except schema.ConfigError as error:
        named = KEY_PATH.match(str(error))
        assert named, str(error)
        assert named.group(1) == path[0] or named.group(0).startswith(REFERRING_KEYS), str(error)


# Keys that name networks of the study: changing a model group can leave them dangling.
REFERRING_KEYS = (
    "dissection.reference",
    "dissection.compare",
    "figures.figure1.network",
    "figures.figure4.name",
)
