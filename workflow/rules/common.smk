import os
import sys
from pathlib import Path

from snakemake.utils import validate

SOURCE_DIR = Path(workflow.basedir) / "src"
# The package runs from the checkout, installed or not, here and in every job's environment.
sys.path.insert(0, str(SOURCE_DIR))
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [str(SOURCE_DIR), os.environ.get("PYTHONPATH")])))

from memdissect import study  # noqa: E402  (torch-free)

ENV = "../../envs/memdissect.yaml"

validate(config, "../schemas/config.schema.yaml")

CLASSIFIERS = study.expand_classifiers(config)
PAIRS = study.dissection_pairs(config, CLASSIFIERS)
PATTERN_SOURCES = study.pattern_sources(PAIRS)


wildcard_constraints:
    model="[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-s[0-9]+",
    f1="[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-s[0-9]+",
    f2="[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-s[0-9]+",
    label_set="noise[0-9.e-]+-seed[0-9]+",


# ----------------------------------------------------------------------------- data


def get_dataset_source(wildcards):
    """The raw data set that data preparation reads: nothing for the synthetic one."""
    dataset = config["dataset"]
    if dataset["kind"] == "cifar10":
        return {"source": ancient(f"{dataset['root']}/cifar-10-batches-py")}
    if dataset["kind"] == "imagefolder":
        return {"source": ancient(directory(dataset["root"]))}
    return {}


def get_dataset_archive(wildcards):
    archive = config["dataset"].get("archive")
    if not archive:
        raise WorkflowError(
            f"the data set folder {config['dataset']['root']!r} does not exist and no dataset.archive is "
            f"configured to unpack into it; point dataset.root at an existing folder or set dataset.archive"
        )
    return ancient(archive)


def get_dataset_params(wildcards):
    dataset = config["dataset"]
    if dataset["kind"] == "synthetic":
        return {key: dataset[key] for key in ("kind", "train_size", "test_size", "seed")}
    return {"kind": dataset["kind"]}


def get_label_set_params(wildcards):
    noise, seed = wildcards.label_set.removeprefix("noise").split("-seed")
    return {"noise": float(noise), "seed": int(seed), "num_classes": config["dataset"]["num_classes"]}


# ----------------------------------------------------------------------------- classifiers


def get_classifier(wildcards, name="model"):
    identifier = getattr(wildcards, name)
    if identifier not in CLASSIFIERS:
        raise ValueError(f"{identifier!r} is not a model of this study")
    return CLASSIFIERS[identifier]


def weights_of(model_id):
    return f"results/models/{model_id}/weights.pt"


def history_of(model_id):
    return f"results/models/{model_id}/history.parquet"


def get_training_inputs(wildcards):
    classifier = get_classifier(wildcards)
    return {
        "train": "results/data/train.pt",
        "test": "results/data/test.pt",
        "labels": f"results/labels/{study.label_set_name(classifier.noise, classifier.label_seed)}.parquet",
        "architecture": str(SOURCE_DIR / "memdissect" / study.ARCHITECTURE_SOURCES[classifier.arch]),
    }


def get_classifier_settings(wildcards):
    return get_classifier(wildcards).settings


def get_all_histories():
    return [history_of(identifier) for identifier in CLASSIFIERS]


# ----------------------------------------------------------------------------- patterns and Dist


def get_pattern_inputs(wildcards):
    return {"classifier": weights_of(wildcards.model), "gan": "results/gan/dcgan.pt"}


def get_pair_inputs(wildcards):
    return {"patterns": f"results/patterns/{wildcards.f1}.pt", "classifier": weights_of(wildcards.f2)}


def pair_table_of(f1, f2):
    return f"results/dist/pairs/{f1}/{f2}.parquet"


def get_pair_tables(wildcards):
    return [pair_table_of(f1, f2) for f1, f2 in PAIRS]


def get_pair_descriptions(wildcards):
    """f1, f2 and what they are, one dict per pair, in the order of get_pair_tables."""
    described = []
    for f1, f2 in PAIRS:
        first, second = CLASSIFIERS[f1], CLASSIFIERS[f2]
        described.append({"f1": f1, "f2": f2, "condition": first.condition, "noise": first.noise,
                          "f1_network": first.network, "f2_network": second.network})
    return described


# ----------------------------------------------------------------------------- figures


def figure_paths(number):
    return {"pdf": f"results/figures/figure{number}.pdf", "png": f"results/figures/figure{number}.png"}


def conditions_with(network, conditions):
    return [c for c in conditions if study.classifier_in(CLASSIFIERS, c, network) is not None]


def get_figure1_histories(wildcards):
    spec = config["figures"]["figure1"]
    return [history_of(f"{c}-{spec['network']}") for c in conditions_with(spec["network"], spec["conditions"])]


def get_figure1_params(wildcards):
    spec = config["figures"]["figure1"]
    return {"network": spec["network"],
            "conditions": [(c, config["conditions"][c]["noise"]) for c in conditions_with(spec["network"], spec["conditions"])]}


def get_figure2_params(wildcards):
    spec = config["figures"]["figure2"]
    return {"reference": config["dissection"]["reference"], "compare": config["dissection"]["compare"],
            "panels": [spec["conditions"], spec["ablations"]]}


def get_figure3_patterns(wildcards):
    reference = config["dissection"]["reference"]
    return [f"results/patterns/{c}-{reference}.pt" for c in get_figure3_params(wildcards)["conditions"]]


def get_figure3_params(wildcards):
    spec = config["figures"]["figure3"]
    reference = config["dissection"]["reference"]
    conditions = [c for c in spec["conditions"] if f"{c}-{reference}" in PATTERN_SOURCES]
    return {"conditions": conditions, "network": reference, "classes": spec["classes"], "columns": spec["columns"]}


def figure4_members(condition):
    name = config["figures"]["figure4"]["name"]
    return [c for c in CLASSIFIERS.values() if c.condition == condition and c.name == name]


def get_figure4_histories(wildcards):
    return [history_of(c.id) for condition in config["figures"]["figure4"]["conditions"] for c in figure4_members(condition)]


def get_figure4_params(wildcards):
    spec = config["figures"]["figure4"]
    return {"name": spec["name"],
            "members": [(condition, c.seed) for condition in spec["conditions"] for c in figure4_members(condition)]}


def get_figure5_params(wildcards):
    conditions = config["figures"]["figure5"]["conditions"]
    return {"reference": config["dissection"]["reference"],
            "noise": {c: config["conditions"][c]["noise"] for c in conditions}}


def get_final_output():
    outputs = get_all_histories() + get_pair_tables(None)
    outputs += ["results/dist/dist_long.parquet", "results/dist/dist_summary.parquet", "results/dist/dist_summary.csv",
                "results/gan/samples.png"]
    for number in range(1, 6):
        outputs += list(figure_paths(number).values())
    return outputs
