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

from memdissect.study.architectures import default_name
from memdissect.study.settings import ClassifierSettings, config_keys

GROUP_KEYS = (
    "arch",
    "seed",
    "num_classes",
)  # a classifier's settings that come from its model group and data set
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
    weights: str | None = (
        None  # an imported classifier's weights file; None for one the study trains
    )
    normalization: dict | None = field(
        default=None, hash=False, compare=False
    )  # its {mean, std}, if given


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
    """Every classifier of the study by id, in config order: the trained ones of the model groups, then
    the imported ones of `checkpoints`; a repeated id is an error."""
    classifiers: dict[str, Classifier] = {}
    members = [
        (f"models[{index}]", trained)
        for index, group in enumerate(config["models"])
        for trained in group_members(config, group)
    ]
    members += [
        (f"checkpoints[{index}]", imported(config, entry))
        for index, entry in enumerate(config.get("checkpoints", []))
    ]
    for where, classifier in members:
        if classifier.id in classifiers:
            raise ValueError(
                f"{where}: the model id {classifier.id!r} is taken by another model (condition "
                f"{classifier.condition!r}, name {classifier.name!r}, seed {classifier.seed}); give "
                f"this one its own `name`"
            )
        classifiers[classifier.id] = classifier
    return classifiers


def group_members(config: dict, group: dict) -> list[Classifier]:
    """One trained classifier per (condition, seed) of a model group. Training settings come from
    `training`, then the condition, then the group, then `overrides` by model id."""
    name, members = group.get("name", default_name(group["arch"])), []
    for condition in group["conditions"]:
        spec = config["conditions"][condition]
        for seed in group["seeds"]:
            identifier = model_id(condition, name, seed)
            settings = {}
            for source in (config.get("training", {}), spec, group):
                settings.update({key: source[key] for key in TRAINING_KEYS if key in source})
            settings.update(config.get("overrides", {}).get(identifier, {}))
            settings.update(arch=group["arch"], seed=int(seed), num_classes=num_classes_of(config))
            members.append(
                Classifier(
                    id=identifier,
                    network=network_id(name, seed),
                    name=name,
                    arch=group["arch"],
                    seed=int(seed),
                    condition=condition,
                    noise=float(spec["noise"]),
                    label_seed=label_seed_of(config, spec),
                    settings=settings,
                )
            )
    return members


def imported(config: dict, entry: dict) -> Classifier:
    """A classifier trained elsewhere: its weights file, and the normalization an outside network expects."""
    spec, seed = config["conditions"][entry["condition"]], int(entry.get("seed", 1))
    settings = {
        "arch": entry["arch"],
        "width": entry.get("width", 1.0),
        "seed": seed,
        "num_classes": num_classes_of(config),
    }
    normalization = {key: entry[key] for key in ("mean", "std") if key in entry} or None
    return Classifier(
        id=model_id(entry["condition"], entry["name"], seed),
        network=network_id(entry["name"], seed),
        name=entry["name"],
        arch=entry["arch"],
        seed=seed,
        condition=entry["condition"],
        noise=float(spec["noise"]),
        label_seed=label_seed_of(config, spec),
        settings=settings,
        weights=entry["weights"],
        normalization=normalization,
    )


def classifier_maker(config: dict, model: str) -> str:
    """The rule that writes a classifier's weights and test outputs, for the messages about those files:
    import_classifier for one of `checkpoints`, train_classifier for one the study trains."""
    imported_ids = {imported(config, entry).id for entry in config.get("checkpoints", [])}
    return "import_classifier" if model in imported_ids else "train_classifier"


def num_classes_of(config: dict) -> int:
    return config.get("dataset", {}).get("num_classes", 10)


def label_seed_of(config: dict, condition: dict) -> int:
    return int(condition.get("label_seed", config.get("labels", {}).get("seed", 0)))


def trained(classifiers: dict) -> list[str]:
    """The ids of the classifiers the study trains itself (with a history), in study order."""
    return [c.id for c in classifiers.values() if c.weights is None]


def classifier_in(classifiers: dict, condition: str, network: str):
    """The classifier of a network in a condition, or None."""
    return classifiers.get(f"{condition}-{network}")


def conditions_in_use(classifiers: dict) -> list[str]:
    return list(dict.fromkeys(c.condition for c in classifiers.values()))


UNTRAINED = (
    "untrained"  # f2 of the null baseline: a freshly initialized network of f1's architecture
)
LOOKUP = "knn"  # f2 of the lookup table: the k-NN of f1's training images and labels (memdissect.analyses.lookup_table)
LOOKUP_PIXELS = "pixels"  # lookup_table.features: distances between the images themselves


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
        return next(
            (name for name, spec in conditions.items() if float(spec["noise"]) == noise), None
        )

    return {
        "true_labels": dissection.get("true_labels") or first_with(0.0),
        "random_labels": dissection.get("random_labels") or first_with(1.0),
    }


def fill_study_defaults(config: dict, classifiers: dict) -> None:
    """Fill in, in place, the keys whose default (null in the schema) is the study's own: the reference is
    the study's first network and is compared with every other; each figure shows networks and conditions
    the study has data of. A figure left without any (Figure 1 and 4 where nothing is trained) is not drawn."""
    dissection = config["dissection"]
    networks = list(dict.fromkeys(c.network for c in classifiers.values()))
    if dissection["reference"] is None:
        dissection["reference"] = networks[0]
    if dissection["compare"] is None:
        dissection["compare"] = [
            network for network in networks if network != dissection["reference"]
        ]
    fill_figure_defaults(config, classifiers)


def fill_figure_defaults(config: dict, classifiers: dict) -> None:
    figures, reference = config["figures"], config["dissection"]["reference"]
    trained_ones = [classifiers[model] for model in trained(classifiers)]
    figure1, figure4 = figures["figure1"], figures["figure4"]
    if figure1["network"] is None:
        shown = [c.network for c in trained_ones if c.network == reference] + [
            c.network for c in trained_ones
        ]
        figure1["network"] = next(iter(shown), None)
    if figure1["conditions"] is None:
        figure1["conditions"] = in_config_order(
            config, [c.condition for c in trained_ones if c.network == figure1["network"]]
        )
    if figure4["name"] is None:
        figure4["name"] = next(
            (c.name for c in trained_ones if c.network == figure1["network"]), None
        )
    if figure4["conditions"] is None:
        figure4["conditions"] = in_config_order(
            config, [c.condition for c in trained_ones if c.name == figure4["name"]]
        )
    with_patterns = [
        classifiers[f1].condition
        for f1, _ in dissection_pairs(config, classifiers)
        if classifiers[f1].network == reference
    ]
    for name in ("figure2", "figure3", "figure5"):
        if figures[name]["conditions"] is None:
            figures[name]["conditions"] = in_config_order(config, with_patterns)
    if figures["figure3"]["classes"] is None:
        figures["figure3"]["classes"] = list(range(min(3, num_classes_of(config))))


def in_config_order(config: dict, conditions) -> list[str]:
    """The distinct conditions among `conditions`, in the order the config lists them."""
    return [name for name in config["conditions"] if name in set(conditions)]


def pattern_sources(pairs: list[tuple[str, str]]) -> list[str]:
    """The classifiers whose patterns are synthesized: every f1 of a pair."""
    return list(dict.fromkeys(f1 for f1, _ in pairs))


# Settings that change how a job computes, never what it computes: no job's params hold them,
# so changing one reruns nothing. Jobs read them from the config itself.
HOW_SETTINGS = (
    ("device",),
    ("cuda_graphs",),
    ("sharing",),
    ("resume_every_seconds",),
    ("patterns", "chunk_size"),
)


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
