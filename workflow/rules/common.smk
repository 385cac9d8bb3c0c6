import os
import sys
from pathlib import Path

SOURCE_DIR = Path(workflow.basedir) / "src"
# The package runs from the checkout, installed or not, here and in every job's environment.
sys.path.insert(0, str(SOURCE_DIR))
os.environ.update(PYTHONPATH=os.pathsep.join(filter(None, [str(SOURCE_DIR), os.environ.get("PYTHONPATH")])))

from memdissect import resources, study, validation  # noqa: E402  (torch-free)

ENV = "../../envs/memdissect.yaml"
SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"

# A bad config stops here (the schema, through Snakemake's validate, then the study's names),
# with one message naming the key, the bad value and what is valid.
try:
    CLASSIFIERS = validation.check_config(config, SCHEMA)
except validation.ConfigError as error:
    raise WorkflowError(f"config error: {error}") from None

PAIRS = study.dissection_pairs(config, CLASSIFIERS)
SPLIT_SIZES = validation.split_sizes(config["dataset"])
PATTERN_SOURCES = study.pattern_sources(PAIRS)


def canonical(value):
    """Params with every mapping's keys sorted (a function's result likewise), so that the
    order of keys in a config file never reruns a job (study.canonical)."""
    if callable(value):
        return lambda wildcards: study.canonical(value(wildcards))
    return study.canonical(value)


def pattern_settings():
    """The patterns section without the settings that change how, not what (study.HOW_SETTINGS)."""
    return study.without_how_settings(config)["patterns"]


wildcard_constraints:
    model="[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-s[0-9]+",
    f2="[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-s[0-9]+",
    label_set="noise[0-9.e-]+-seed[0-9]+",


# ----------------------------------------------------------------------------- data


def get_dataset_source(wildcards):
    """The raw data set that data preparation reads: the user's folder when it exists (an input
    no rule makes, so nothing can delete it), else the workflow's own download or unpacked
    archive; nothing for the synthetic data set."""
    dataset = config["dataset"]
    if dataset["kind"] == "cifar10":
        users = Path(dataset["root"]) / validation.CIFAR10_FOLDER
        return {"source": ancient(str(users)) if users.is_dir() else rules.download_cifar10.output[0]}
    if dataset["kind"] == "imagefolder":
        users = Path(dataset["root"])
        return {"source": ancient(str(users)) if users.is_dir() else rules.unpack_archive.output[0]}
    return {}


def get_dataset_archive(wildcards):
    """The archive that unpack_archive reads (planned only when dataset.root is missing; check_study)."""
    archive = config["dataset"].get("archive")
    return ancient(archive) if archive else []


def get_dataset_params(wildcards):
    """What decides the tensors' content: the kind and, per kind, the size or the subset."""
    dataset = config["dataset"]
    if dataset["kind"] == "synthetic":
        return {key: dataset[key] for key in ("kind", "train_size", "test_size", "seed")}
    return {"kind": dataset["kind"], "subset": validation.subset_in_use(dataset)}


def get_label_set_params(wildcards):
    noise, seed = wildcards.label_set.removeprefix("noise").split("-seed")
    return {"noise": float(noise), "seed": int(seed), "num_classes": config["dataset"]["num_classes"]}


# ----------------------------------------------------------------------------- wall times of the GPU jobs (minutes)


def get_training_runtime(wildcards, attempt):
    epochs = get_classifier(wildcards).settings["epochs"]
    return resources.classifier_minutes(epochs, SPLIT_SIZES["train"], SPLIT_SIZES["test"], attempt)


def get_gan_runtime(wildcards, attempt):
    return resources.gan_minutes(config["gan"]["epochs"], SPLIT_SIZES["train"], attempt)


def get_pattern_runtime(wildcards, attempt):
    spec = config["patterns"]
    return resources.pattern_minutes(config["dataset"]["num_classes"], spec["starts"], spec["iterations"], attempt)


def get_evaluation_runtime(wildcards, attempt):
    return resources.evaluation_minutes(attempt)


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


def get_f2_settings(wildcards):
    return get_classifier(wildcards, "f2").settings


def get_all_histories():
    return [history_of(identifier) for identifier in CLASSIFIERS]


# ----------------------------------------------------------------------------- patterns and Dist


def get_pattern_inputs(wildcards):
    return {"classifier": weights_of(wildcards.model), "gan": "results/gan/dcgan.pt"}


def patterns_of(model_id):
    return f"results/patterns/{model_id}.pt"


def pattern_sources_compared_with(f2):
    """The f1 whose patterns f2 is evaluated on, in pair order."""
    return [f1 for f1, other in PAIRS if other == f2]


def get_evaluation_inputs(wildcards):
    sources = pattern_sources_compared_with(wildcards.f2)
    return {"patterns": [patterns_of(f1) for f1 in sources], "classifier": weights_of(wildcards.f2)}


def get_evaluation_sources(wildcards):
    return pattern_sources_compared_with(wildcards.f2)


def get_evaluation_tables(wildcards):
    """One table per evaluated model f2: every pair (f1, f2) it is part of."""
    return [f"results/dist/by_f2/{f2}.parquet" for f2 in dict.fromkeys(f2 for _, f2 in PAIRS)]


def describe_pair(f1, f2):
    first = CLASSIFIERS[f1]
    second = CLASSIFIERS.get(f2)  # None for the null baseline, study.UNTRAINED
    return {"f1": f1, "f2": f2, "condition": first.condition, "noise": first.noise,
            "f1_network": first.network, "f2_network": second.network if second else f2,
            "f1_name": first.name, "f2_name": second.name if second else f"{f2} {first.arch}"}


def get_pair_descriptions(wildcards):
    """f1, f2 and what they are, one dict per pair."""
    return [describe_pair(f1, f2) for f1, f2 in PAIRS]


def get_null_tables(wildcards):
    return [f"results/dist/null/{f1}.parquet" for f1 in PATTERN_SOURCES]


def get_null_descriptions(wildcards):
    """Each pattern source against an untrained network of its architecture (the log C scale), in the order of get_null_tables."""
    return [describe_pair(f1, study.UNTRAINED) for f1 in PATTERN_SOURCES]


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
    return {"network": spec["network"], "num_classes": config["dataset"]["num_classes"],
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
    return {"name": spec["name"], "num_classes": config["dataset"]["num_classes"],
            "members": [(condition, c.seed) for condition in spec["conditions"] for c in figure4_members(condition)]}


def get_figure5_params(wildcards):
    conditions = config["figures"]["figure5"]["conditions"]
    return {"reference": config["dissection"]["reference"],
            "noise": {c: config["conditions"][c]["noise"] for c in conditions}}


def get_final_output():
    outputs = get_all_histories() + get_evaluation_tables(None)
    outputs += ["results/dist/dist_long.parquet", "results/dist/dist_summary.parquet", "results/dist/dist_summary.csv",
                "results/gan/samples.png"]
    for number in range(1, 6):
        outputs += list(figure_paths(number).values())
    return outputs + get_analysis_output()


# ----------------------------------------------------------------------------- beyond the paper


def test_outputs_of(model_id):
    return f"results/models/{model_id}/test_outputs.pt"


def get_crosscheck_inputs(wildcards):
    models = dict.fromkeys(model for pair in PAIRS for model in pair)
    return {"test_outputs": [test_outputs_of(model) for model in models]}


def get_diagnostics_tables(wildcards):
    return [f"results/patterns/diagnostics/{model}.parquet" for model in PATTERN_SOURCES]


def get_dist_matrix_figures():
    conditions = study.all_pairs_conditions(config, CLASSIFIERS)
    return [f"results/figures/dist_matrix_{c}.{extension}" for c in conditions for extension in ("pdf", "png")]


def get_summary_inputs(wildcards):
    return {
        "histories": get_figure1_histories(wildcards),
        "summary": "results/dist/dist_summary.parquet",
        "crosscheck": "results/crosscheck/crosscheck.parquet",
        "stages": "results/stages/stages.parquet",
    }


def get_summary_params(wildcards):
    return {**get_figure1_params(wildcards), **get_figure5_params(wildcards),
            "conditions_of_figure2": config["figures"]["figure2"]["conditions"]}


def get_analysis_output():
    return get_dist_matrix_figures() + [
        "results/crosscheck/crosscheck.csv", "results/stages/stages.csv", "results/patterns/diagnostics_summary.csv",
        "results/dist/dist_over_seeds.csv", "results/figures/crosscheck.pdf", "results/figures/crosscheck.png",
        "results/summary.md", "results/study_config.yaml",
    ]
