"""The study as the config describes it: which classifiers exist, what each is trained with,
which patterns are synthesized and which pairs are compared.

Pure Python without torch, so the workflow can plan a study cheaply on every job start.

A *condition* is a label set (noise level p, label seed) plus a training regime (weight
decay, augmentation, optional overrides). A *model group* is an architecture at a width
with a list of seeds, trained in a list of conditions. Each (condition, group, seed) is one
classifier with the id ``{condition}-{name}-s{seed}``, where ``name`` defaults to the
architecture. A *network* ``{name}-s{seed}`` names the same classifier across conditions.
Training settings come from ``training``, then the condition, then the group, then
``overrides`` keyed by model id: the way to change one model alone.
"""

from dataclasses import dataclass, field

from memdissect.settings import ClassifierSettings, config_keys

GROUP_KEYS = ("arch", "seed", "num_classes")  # a classifier's settings that come from its model group and data set
TRAINING_KEYS = tuple(key for key in config_keys(ClassifierSettings) if key not in GROUP_KEYS)


@dataclass(frozen=True)
class Classifier:
    id: str
    network: str
    name: str
    arch: str
    seed: int
    condition: str
    noise: float
    label_seed: int
    settings: dict = field(hash=False, compare=False)


def network_id(name: str, seed: int) -> str:
    return f"{name}-s{seed}"


def model_id(condition: str, name: str, seed: int) -> str:
    return f"{condition}-{network_id(name, seed)}"


def format_noise(noise: float) -> str:
    """The noise level as it appears in file names: 0, 0.2, 1."""
    return f"{float(noise):g}"


def label_set_name(noise: float, label_seed: int) -> str:
    return f"noise{format_noise(noise)}-seed{label_seed}"


def expand_classifiers(config: dict) -> dict[str, Classifier]:
    """Every classifier of the study by id, in config order; a repeated id is an error."""
    training = config.get("training", {})
    conditions = config["conditions"]
    default_label_seed = config.get("labels", {}).get("seed", 0)
    overrides = config.get("overrides", {})
    classifiers: dict[str, Classifier] = {}
    for group_index, group in enumerate(config["models"]):
        name = group.get("name", group["arch"])
        for condition in group["conditions"]:
            spec = conditions[condition]
            for seed in group["seeds"]:
                settings = {key: training[key] for key in TRAINING_KEYS if key in training}
                settings.update({key: spec[key] for key in TRAINING_KEYS if key in spec})
                settings.update({key: group[key] for key in TRAINING_KEYS if key in group})
                identifier = model_id(condition, name, seed)
                settings.update(overrides.get(identifier, {}))
                settings.update(arch=group["arch"], seed=int(seed),
                                num_classes=config.get("dataset", {}).get("num_classes", 10))
                if identifier in classifiers:
                    raise ValueError(
                        f"models[{group_index}]: the group repeats the model id {identifier!r} (condition {condition!r}, "
                        f"name {name!r}, seed {seed}); give one of the groups its own `name`"
                    )
                classifiers[identifier] = Classifier(
                    id=identifier, network=network_id(name, seed), name=name, arch=group["arch"],
                    seed=int(seed), condition=condition, noise=float(spec["noise"]),
                    label_seed=int(spec.get("label_seed", default_label_seed)), settings=settings,
                )
    return classifiers


def classifier_in(classifiers: dict, condition: str, network: str):
    """The classifier of a network in a condition, or None."""
    return classifiers.get(f"{condition}-{network}")


def conditions_in_use(classifiers: dict) -> list[str]:
    return list(dict.fromkeys(c.condition for c in classifiers.values()))


UNTRAINED = "untrained"  # f2 of the null baseline: a freshly initialized network of f1's architecture


def dissection_pairs(config: dict, classifiers: dict) -> list[tuple[str, str]]:
    """The (f1, f2) pairs whose Dist the study computes.

    By default the reference network against each compared network, in every condition where
    both were trained. In the conditions of ``all_pairs`` (true: all of them), every ordered
    pair of distinct classifiers that share the condition.
    """
    dissection = config.get("dissection", {})
    full_matrix = all_pairs_conditions(config, classifiers)
    pairs = []
    for condition in conditions_in_use(classifiers):
        members = [c.id for c in classifiers.values() if c.condition == condition]
        if condition in full_matrix:
            pairs += [(f1, f2) for f1 in members for f2 in members if f1 != f2]
            continue
        reference = classifier_in(classifiers, condition, dissection["reference"])
        if reference is None:
            continue
        for network in dissection.get("compare", []):
            other = classifier_in(classifiers, condition, network)
            if other is not None and other.id != reference.id:
                pairs.append((reference.id, other.id))
    return pairs


def all_pairs_conditions(config: dict, classifiers: dict) -> list[str]:
    """The conditions whose full pairwise Dist matrix the study computes."""
    all_pairs = config.get("dissection", {}).get("all_pairs", False)
    if all_pairs is True:
        return conditions_in_use(classifiers)
    return [c for c in conditions_in_use(classifiers) if all_pairs and c in all_pairs]


def reference_conditions(config: dict) -> dict:
    """X_T and X_R, the conditions the summary and the cross-check figure set side by side:
    ``dissection.true_labels`` and ``dissection.random_labels`` where the config names them, else
    the first condition in config order with noise 0 and the first with noise 1 (None if none)."""
    dissection, conditions = config["dissection"], config["conditions"]

    def first_with(noise):
        return next((name for name, spec in conditions.items() if float(spec["noise"]) == noise), None)

    return {"true_labels": dissection.get("true_labels") or first_with(0.0),
            "random_labels": dissection.get("random_labels") or first_with(1.0)}


def pattern_sources(pairs: list[tuple[str, str]]) -> list[str]:
    """The classifiers whose patterns are synthesized: every f1 of a pair."""
    return list(dict.fromkeys(f1 for f1, _ in pairs))


# Settings that change how a job computes, never what it computes: no job's params hold them,
# so changing one reruns nothing. Jobs read them from the config itself.
HOW_SETTINGS = (("device",), ("patterns", "chunk_size"))


def canonical(value):
    """value with every mapping's keys sorted, recursively: equal settings give equal params,
    whatever order a config file writes them in."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    return value


def without_how_settings(config: dict) -> dict:
    """A copy of config without HOW_SETTINGS, canonical."""
    kept = canonical(config)
    for *parents, key in HOW_SETTINGS:
        section = kept
        for parent in parents:
            section = section.get(parent, {})
        section.pop(key, None)
    return kept
