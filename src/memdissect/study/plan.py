"""The study plan: every artifact's path and every job's inputs and params, a pure function of the
validated config (defaults filled in).

A job is a rule applied to its wildcards. Its inputs are keyed by role ("weights", "gan"); a
role that holds one file per model, condition or f1 maps those names to paths, and the
workflow hands it to the job as inputs named ``role:name`` (``named_inputs``), so that a
script looks its files up by name (``inputs_by_role``), never by position.

The roles X_T and X_R come from one rule, ``design.reference_conditions``.
"""

import functools
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

from memdissect.data import folders
from memdissect.data.catalogue import TORCHVISION_SETS
from memdissect.study import architectures, design, resources
from memdissect.study.design import LOOKUP, LOOKUP_PIXELS, UNTRAINED

ROLE_SEPARATOR = ":"
MODEL_ID = r"[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-s[0-9]+"  # a model's id: {condition}-{network}-s{seed} (design.model_id)
PACKAGE_DIR = architectures.PACKAGE_DIR
# Roles of files no rule makes, read where they lie, never from a storage (snakemake's `local`): the code a
# model depends on (for reruns) and the user's checkpoints, which the local rule import_classifier reads.
READ_IN_PLACE = ("architecture", "checkpoint")

# ----------------------------------------------------------------------------- paths

DATA = {
    "train": "results/data/train.pt",
    "test": "results/data/test.pt",
    "true_labels": "results/data/train_labels.parquet",
}
DOWNLOADS = "results/data/download"
UNPACKED_ARCHIVE = "results/data/unpacked"
GAN = {
    "model": "results/gan/dcgan.pt",
    "losses": "results/gan/losses.parquet",
    "samples": "results/gan/samples.png",
}
GAN_RESUME = "results/resume/gan.pt"
DIST = {
    "long": "results/dist/dist_long.parquet",
    "summary": "results/dist/dist_summary.csv",
    "summary_parquet": "results/dist/dist_summary.parquet",
    "over_seeds": "results/dist/dist_over_seeds.csv",
}
EVALUATIONS = "results/dist/evaluations.parquet"
LOOKUP_EVALUATIONS = "results/lookup/evaluations.parquet"
CROSSCHECK = {
    "parquet": "results/crosscheck/crosscheck.parquet",
    "csv": "results/crosscheck/crosscheck.csv",
}
STAGES = {"parquet": "results/stages/stages.parquet", "csv": "results/stages/stages.csv"}
DIAGNOSTICS_SUMMARY = "results/patterns/diagnostics_summary.csv"
SUMMARY = "results/summary.md"
STUDY_CONFIG = "results/study_config.yaml"
GAN_SOURCE = "models/dcgan.py"
# The paper's other claims: learn then memorize (results/learning_order), paths in function space (results/paths)
LEARNING_ORDER = {
    "parquet": "results/learning_order/learning_order.parquet",
    "csv": "results/learning_order/learning_order.csv",
}
PATH_TABLES = {
    "by_epoch": "results/paths/path_divergence_by_epoch.parquet",
    "by_epoch_csv": "results/paths/path_divergence_by_epoch.csv",
    "overall": "results/paths/path_divergence.parquet",
    "overall_csv": "results/paths/path_divergence.csv",
    "fit_epochs": "results/paths/fit_epochs.parquet",
    "fit_epochs_csv": "results/paths/fit_epochs.csv",
}


def label_set_path(label_set: str) -> str:
    return f"results/labels/{label_set}.parquet"


def classifier_paths(model: str) -> dict:
    return {
        "weights": f"results/models/{model}/weights.pt",
        "history": f"results/models/{model}/history.parquet",
        "test_outputs": f"results/models/{model}/test_outputs.pt",
    }


def classifier_resume_path(model: str) -> str:
    return f"results/resume/models/{model}.pt"


def classifier_log_path(model: str) -> str:
    return f"logs/train_classifier/{model}.log"


def pattern_paths(model: str) -> dict:
    return {
        "patterns": f"results/patterns/{model}.pt",
        "diagnostics": f"results/patterns/diagnostics/{model}.parquet",
    }


def figure_paths(name: str, folder: str = "results/figures") -> dict:
    return {"pdf": f"{folder}/{name}.pdf", "png": f"{folder}/{name}.png"}


def probe_path_file(model: str) -> str:
    """A run's predictions on the probe set per epoch (probe_path.PATH_FILE), made by its training job, so
    beside its weights: each folder of results/ is made by the rules of one file."""
    return f"results/models/{model}/probe_path.pt"


# ----------------------------------------------------------------------------- named inputs


def named_inputs(inputs: dict) -> dict:
    """A job's inputs as flat names: a role of several files becomes one name per file, ``role:name``."""
    flat = {}
    for role, value in inputs.items():
        if isinstance(value, dict):
            flat.update({f"{role}{ROLE_SEPARATOR}{name}": path for name, path in value.items()})
        else:
            flat[role] = value
    return flat


def inputs_by_role(flat: dict, role: str) -> dict:
    """The files of one role by name, in plan order: the inverse of ``named_inputs``."""
    prefix = f"{role}{ROLE_SEPARATOR}"
    return {
        name.removeprefix(prefix): path for name, path in flat.items() if name.startswith(prefix)
    }


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Job:
    rule: str
    wildcards: dict
    inputs: dict
    params: dict
    outputs: dict


def user_data_folder(dataset: dict) -> str:
    """Where the user's own copy of the data set would be: read in place when it exists
    (``folders.user_copy_exists``)."""
    spec = TORCHVISION_SETS.get(dataset["kind"])
    return str(Path(dataset["root"]) / spec.folder) if spec else dataset["root"]


def downloaded_folder(kind: str) -> str:
    """What rule download_dataset makes: torchvision's folder of the data set under the root
    results/data/download/<kind>, or that root itself where torchvision keeps the files there (SVHN)."""
    spec = TORCHVISION_SETS.get(kind)
    return str(Path(DOWNLOADS) / kind / (spec.folder if spec else ""))


def id_pattern(ids) -> str:
    """A regular expression that matches exactly these ids (none: nothing), to tell two rules' jobs apart."""
    return "|".join(re.escape(identifier) for identifier in ids) or "(?!)"


def classifier_outputs(model: str) -> dict:
    """What every classifier job writes, trained or imported: its weights and its outputs on the test images."""
    return {key: classifier_paths(model)[key] for key in ("weights", "test_outputs")}


class Plan:
    """The study of one validated config: ``job(rule, **wildcards)`` for every job, ``jobs()`` for all.

    ``split_sizes`` (images per split) scale the GPU jobs' wall times.
    """

    def __init__(self, config: dict, classifiers: dict, split_sizes: dict):
        self.config = config
        self.classifiers = classifiers
        self.split_sizes = split_sizes
        self.pairs = design.dissection_pairs(config, classifiers)
        self.pattern_sources = design.pattern_sources(self.pairs)
        self.evaluated = list(dict.fromkeys(f2 for _, f2 in self.pairs))
        self.references = design.reference_conditions(config)
        self.num_classes = config["dataset"]["num_classes"]
        self.trained = design.trained(classifiers)
        self.imported = [model for model in classifiers if model not in self.trained]
        self.lookup_sources = self.lookup_table_sources()

    def job(self, rule: str, **wildcards) -> Job:
        if rule not in OUTPUTS:
            raise ValueError(f"{rule!r} is not a rule of the plan; valid: {', '.join(OUTPUTS)}")
        inputs, params = getattr(self, rule)(**wildcards)
        return Job(rule, wildcards, inputs, params, self.outputs(rule, **wildcards))

    def outputs(self, rule: str, **wildcards) -> dict:
        """rule_outputs, and a training job's probe path file where the config records probes."""
        outputs = rule_outputs(rule, **wildcards)
        if rule == "train_classifier" and self.probes() is not None:
            outputs = {**outputs, **OPTIONAL_OUTPUTS[rule](**wildcards)}
        return outputs

    def jobs(self) -> list[Job]:
        """Every job of the study, data preparation first, the report last; a figure or table only where the
        study has the data it shows (`has_data`)."""
        wildcards = {
            "make_labels": [{"label_set": name} for name in self.label_sets()],
            "train_classifier": [{"model": model} for model in self.trained],
            "import_classifier": [{"model": model} for model in self.imported],
            "synthesize_patterns": [{"model": model} for model in self.pattern_sources],
            "dist_matrix_figure": [{"condition": c} for c in self.matrix_conditions()],
            "learning_order_figure": [{"noise": noise} for noise in self.learning_order_levels()],
            "path_figure": [{"name": name} for name in self.path_names()],
        }
        return [
            self.job(rule, **each)
            for rule in RULES
            if self.has_data(rule)
            for each in wildcards.get(rule, [{}])
        ]

    def has_data(self, rule: str) -> bool:
        """Whether the study has what a figure or table shows: histories for Figures 1 and 4 and the stage
        table (a checkpoint has none), pairs of the reference for Figures 2 and 3 and the cross-check figure
        (in X_T or X_R), pairs at two noise levels or more for Figure 5."""
        figure2, figure5 = self.config["figures"]["figure2"], self.config["figures"]["figure5"]
        shown = {
            "figure1": self.figure1_models,
            "figure4": self.figure4_members,
            "stage_table": lambda: self.trained,
            "figure2": lambda: self.with_pairs(*figure2["conditions"], *figure2["ablations"]),
            "figure3": lambda: self.figure3()[0]["patterns"],
            "figure5": lambda: (
                len(set(self.noise_of(self.with_pairs(*figure5["conditions"])).values())) > 1
            ),
            "crosscheck_figure": lambda: self.with_pairs(*filter(None, self.references.values())),
            "learning_order_table": self.learning_order_models,
            "path_tables": self.path_groups,
        }
        if rule == "evaluate_lookup_tables":
            return bool(self.lookup_sources)
        return bool(shown[rule]()) if rule in shown else True

    def with_pairs(self, *conditions) -> list[str]:
        """Those of the conditions where the reference network is f1 of a pair."""
        reference = self.config["dissection"]["reference"]
        paired = {
            self.classifiers[f1].condition
            for f1, _ in self.pairs
            if self.classifiers[f1].network == reference
        }
        return [condition for condition in conditions if condition in paired]

    def classifier(self, model: str):
        if model not in self.classifiers:
            raise ValueError(f"{model!r} is not a model of this study")
        return self.classifiers[model]

    def lookup_table_sources(self) -> list[str]:
        """The f1 whose patterns go through the lookup table of their condition: every f1 the study trains (an
        imported one's labels are not the study's), none where lookup_table is off."""
        if not self.config["lookup_table"]["enabled"]:
            return []
        return [f1 for f1 in self.pattern_sources if f1 in self.trained]

    def label_set_of(self, model: str) -> str:
        classifier = self.classifier(model)
        return design.label_set_name(classifier.noise, classifier.label_seed)

    def label_sets(self) -> dict:
        """Every label set the study trains on, by name: its noise and seed (a checkpoint trains on none)."""
        return {
            self.label_set_of(model): {
                "noise": self.classifiers[model].noise,
                "seed": self.classifiers[model].label_seed,
            }
            for model in self.trained
        }

    def matrix_conditions(self) -> list[str]:
        return design.all_pairs_conditions(self.config, self.classifiers)

    def final_outputs(self) -> list[str]:
        """What `rule all` asks for: every job's outputs but the intermediate ones."""
        intermediate = {"prepare_dataset", "make_labels", "synthesize_patterns"}
        return [
            path
            for job in self.jobs()
            if job.rule not in intermediate
            for path in job.outputs.values()
        ]

    # ------------------------------------------------------------------------- wall times of the GPU jobs (minutes)

    def training_minutes(self, model: str, attempt: int) -> int:
        epochs = self.classifier(model).settings["epochs"]
        return resources.classifier_minutes(
            epochs, self.split_sizes["train"], self.split_sizes["test"], attempt
        )

    def gan_minutes(self, attempt: int) -> int:
        return resources.gan_minutes(
            self.config["gan"]["epochs"], self.split_sizes["train"], attempt
        )

    def pattern_minutes(self, attempt: int) -> int:
        spec = self.config["patterns"]
        return resources.pattern_minutes(
            self.num_classes, spec["starts"], spec["iterations"], attempt
        )

    def evaluation_minutes(self, attempt: int) -> int:
        """The one evaluation job: every pair's f2, and each f1's untrained twin, on f1's C x S patterns."""
        evaluations = len(self.pairs) + len(self.pattern_sources)
        rows = evaluations * self.num_classes * self.config["patterns"]["starts"]
        return resources.evaluation_minutes(rows, attempt)

    # ------------------------------------------------------------------------- data and labels: each rule (inputs, params)

    def dataset_source(self, user_folder_exists: bool) -> dict:
        """The raw data set that data preparation reads: the user's folder when it exists, else the
        workflow's own download or unpacked archive; nothing for the synthetic data set."""
        kind = self.config["dataset"]["kind"]
        if kind == "synthetic":
            return {}
        if user_folder_exists:
            return {"source": user_data_folder(self.config["dataset"])}
        return {"source": downloaded_folder(kind) if kind in TORCHVISION_SETS else UNPACKED_ARCHIVE}

    def prepare_dataset(self):
        dataset = self.config["dataset"]
        if dataset["kind"] == "synthetic":
            params = {key: dataset[key] for key in ("kind", "train_size", "test_size", "seed")}
        else:
            params = {"kind": dataset["kind"], "subset": folders.subset_in_use(dataset)}
        return {}, {"dataset": params}

    def make_labels(self, label_set):
        sets = self.label_sets()
        if label_set not in sets:
            raise ValueError(
                f"{label_set!r} is not a label set of this study; valid: {', '.join(sets)}"
            )
        params = {"label_set": {**sets[label_set], "num_classes": self.num_classes}}
        return {"true_labels": DATA["true_labels"]}, params

    # ------------------------------------------------------------------------- classifiers and the DCGAN

    def train_classifier(self, model):
        classifier = self.classifier(model)
        inputs = {
            "train": DATA["train"],
            "test": DATA["test"],
            "labels": label_set_path(self.label_set_of(model)),
            "architecture": architectures.source_files(classifier.arch),
        }
        return inputs, {
            "settings": classifier.settings,
            "resume": classifier_resume_path(model),
            "probes": self.probes(),
        }

    def import_classifier(self, model):
        """A classifier trained elsewhere: its weights file is an input only, never an output."""
        classifier = self.classifier(model)
        inputs = {
            "checkpoint": classifier.weights,
            "test": DATA["test"],
            "architecture": architectures.source_files(classifier.arch),
        }
        return inputs, {"settings": classifier.settings, "normalization": classifier.normalization}

    def train_gan(self):
        inputs = {"train": DATA["train"], "architecture": str(PACKAGE_DIR / GAN_SOURCE)}
        return inputs, {"settings": self.config["gan"], "resume": GAN_RESUME}

    # ------------------------------------------------------------------------- patterns and Dist

    def synthesize_patterns(self, model):
        inputs = {"classifier": classifier_paths(model)["weights"], "gan": GAN["model"]}
        params = {
            "settings": design.without_how_settings(self.config)["patterns"],
            "classifier": self.classifier(model).settings,
        }
        return inputs, params

    def evaluate_on_patterns(self):
        """One job for the study: each f2 on the patterns of every f1 it is paired with, and each f1's patterns
        through its untrained twin (built from f1's settings)."""
        inputs = {
            "classifiers": {f2: classifier_paths(f2)["weights"] for f2 in self.evaluated},
            "patterns": {f1: pattern_paths(f1)["patterns"] for f1 in self.pattern_sources},
        }
        built = dict.fromkeys([*self.evaluated, *self.pattern_sources])
        params = {
            "pairs": [[f1, f2] for f1, f2 in self.pairs],
            "classifiers": {model: self.classifier(model).settings for model in built},
        }
        return inputs, params

    def describe_pair(self, f1: str, f2: str) -> dict:
        first, second = (
            self.classifiers[f1],
            self.classifiers.get(f2),
        )  # no second for the null baseline or lookup
        reference = (
            f2 if f2 == LOOKUP else f"{f2} {first.arch}"
        )  # one lookup table per condition, of no architecture
        return {
            "f1": f1,
            "f2": f2,
            "condition": first.condition,
            "noise": first.noise,
            "f1_network": first.network,
            "f2_network": second.network if second else f2,
            "f1_name": first.name,
            "f2_name": second.name if second else reference,
        }

    def dist_tables(self):
        """The Dist tables of the networks' evaluations, and of the lookup tables' where the study has them."""
        inputs = {
            "evaluations": EVALUATIONS,
            **({"lookup": LOOKUP_EVALUATIONS} if self.lookup_sources else {}),
        }
        params = {
            "pairs": [self.describe_pair(f1, f2) for f1, f2 in self.pairs],
            "null": [self.describe_pair(f1, UNTRAINED) for f1 in self.pattern_sources],
            "lookup": [self.describe_pair(f1, LOOKUP) for f1 in self.lookup_sources],
            "statistics": self.config["statistics"],
        }
        return inputs, params

    # ------------------------------------------------------------------------- the lookup table

    def evaluate_lookup_tables(self):
        """One job for the study: each trained f1's patterns through the k-NN of its condition's training images
        and labels, in pixels or a fixed model's features (memdissect.analyses.lookup_table)."""
        spec = self.config["lookup_table"]
        conditions = {f1: self.classifier(f1).condition for f1 in self.lookup_sources}
        label_sets = {
            self.classifier(f1).condition: label_set_path(self.label_set_of(f1))
            for f1 in self.lookup_sources
        }
        features = None if spec["features"] == LOOKUP_PIXELS else spec["features"]
        inputs = {
            "train": DATA["train"],
            "labels": label_sets,
            "patterns": {f1: pattern_paths(f1)["patterns"] for f1 in self.lookup_sources},
            **({"features": classifier_paths(features)["weights"]} if features else {}),
        }
        params = {
            "conditions": conditions,
            "table": {
                "k": spec["k"],
                "smoothing": spec["smoothing"],
                "num_classes": self.num_classes,
            },
            "features": {"model": features, "settings": self.classifier(features).settings}
            if features
            else None,
        }
        return inputs, params

    def lookup_minutes(self, attempt: int) -> int:
        """The lookup job: each trained f1's C x S patterns against the training images, counted as evaluations."""
        rows = len(self.lookup_sources) * self.num_classes * self.config["patterns"]["starts"]
        return resources.evaluation_minutes(rows, attempt)

    # ------------------------------------------------------------------------- analyses beyond the paper

    def crosscheck_table(self):
        models = dict.fromkeys(model for pair in self.pairs for model in pair)
        inputs = {
            "test_outputs": {model: classifier_paths(model)["test_outputs"] for model in models}
        }
        return inputs, {"pairs": [self.describe_pair(f1, f2) for f1, f2 in self.pairs]}

    def stage_table(self):
        inputs = {
            "histories": {model: classifier_paths(model)["history"] for model in self.trained}
        }
        return inputs, {"num_classes": self.num_classes}

    def diagnostics_summary(self):
        inputs = {
            "diagnostics": {
                model: pattern_paths(model)["diagnostics"] for model in self.pattern_sources
            }
        }
        return inputs, {}

    # ------------------------------------------------------------------------- the paper's other claims

    def learning_order_models(self) -> dict:
        """Trained models whose label set has corrupted samples (p > 0), with their noise level; none where the
        config turns learning_order off."""
        if not self.config["learning_order"]["enabled"]:
            return {}
        return {
            model: self.classifiers[model].noise
            for model in self.trained
            if self.classifiers[model].noise > 0
        }

    def learning_order_levels(self) -> list[str]:
        """The noise levels of learning_order_models, as file names write them (design.format_noise)."""
        return sorted(
            set(map(design.format_noise, self.learning_order_models().values())), key=float
        )

    def learning_order_table(self):
        models = self.learning_order_models()
        inputs = {"histories": {model: classifier_paths(model)["history"] for model in models}}
        return inputs, {"noise": models, "thresholds": self.config["learning_order"]["thresholds"]}

    def learning_order_figure(self, noise):
        if noise not in self.learning_order_levels():
            raise ValueError(
                f"{noise!r} is no noise level of learn-then-memorize; valid: "
                f"{', '.join(self.learning_order_levels())}"
            )
        members = {
            model: {
                "condition": self.classifiers[model].condition,
                "name": self.classifiers[model].name,
                "seed": self.classifiers[model].seed,
            }
            for model, p in self.learning_order_models().items()
            if design.format_noise(p) == noise
        }
        inputs = {"histories": {model: classifier_paths(model)["history"] for model in members}}
        return inputs, {"spec": {"noise": float(noise), "members": members}}

    def probes(self) -> dict | None:
        """The probe set every training job records its predictions on ({size, seed}), or None where the config
        turns function_paths off."""
        spec = self.config["function_paths"]
        return {"size": spec["probe_size"], "seed": spec["probe_seed"]} if spec["enabled"] else None

    def path_groups(self) -> dict:
        """(condition, name) to its trained models, for the model groups with two seeds or more; none without
        probes."""
        if self.probes() is None:
            return {}
        groups = {}
        for model in self.trained:
            classifier = self.classifiers[model]
            groups.setdefault((classifier.condition, classifier.name), []).append(model)
        return {group: models for group, models in groups.items() if len(models) > 1}

    def path_names(self) -> list[str]:
        return list(dict.fromkeys(name for _, name in self.path_groups()))

    def path_tables(self):
        groups = self.path_groups()
        models = [model for members in groups.values() for model in members]
        inputs = {
            "probes": {model: probe_path_file(model) for model in models},
            "histories": {model: classifier_paths(model)["history"] for model in models},
        }
        params = {
            "groups": [
                {"condition": condition, "name": name, "models": members}
                for (condition, name), members in groups.items()
            ],
            "statistics": self.config["statistics"],
        }
        return inputs, params

    def path_figure(self, name):
        if name not in self.path_names():
            raise ValueError(
                f"{name!r} is no model group with two seeds or more; valid: "
                f"{', '.join(self.path_names())}"
            )
        conditions = [
            condition for condition, group_name in self.path_groups() if group_name == name
        ]
        inputs = {"by_epoch": PATH_TABLES["by_epoch"], "fit_epochs": PATH_TABLES["fit_epochs"]}
        return inputs, {"spec": {"name": name, "noise": self.noise_of(conditions)}}

    # ------------------------------------------------------------------------- figures

    def figure1_models(self) -> dict:
        """Figure 1's conditions where its network was trained: the model of each."""
        spec = self.config["figures"]["figure1"]
        models = {
            c: design.classifier_in(self.classifiers, c, spec["network"])
            for c in spec["conditions"]
        }
        return {
            condition: model.id
            for condition, model in models.items()
            if model and model.id in self.trained
        }

    def noise_of(self, conditions) -> dict:
        return {c: self.config["conditions"][c]["noise"] for c in conditions}

    def figure1(self):
        models = self.figure1_models()
        inputs = {
            "histories": {c: classifier_paths(model)["history"] for c, model in models.items()}
        }
        spec = {
            "network": self.config["figures"]["figure1"]["network"],
            "num_classes": self.num_classes,
            "noise": self.noise_of(models),
        }
        return inputs, {"spec": spec}

    def dissection_names(self) -> dict:
        return {key: self.config["dissection"][key] for key in ("reference", "compare")}

    def figure2(self):
        spec = self.config["figures"]["figure2"]
        params = {
            "spec": {**self.dissection_names(), "panels": [spec["conditions"], spec["ablations"]]}
        }
        return {"summary": DIST["summary_parquet"]}, params

    def figure3(self):
        spec, reference = self.config["figures"]["figure3"], self.config["dissection"]["reference"]
        sources = {c: f"{c}-{reference}" for c in spec["conditions"]}
        patterns = {
            c: pattern_paths(m)["patterns"] for c, m in sources.items() if m in self.pattern_sources
        }
        params = {
            "spec": {"network": reference, "classes": spec["classes"], "columns": spec["columns"]}
        }
        return {"patterns": patterns}, params

    def figure4_members(self) -> dict:
        """The trained models of Figure 4's name in its conditions: the condition and seed of each."""
        spec = self.config["figures"]["figure4"]
        return {
            c.id: {"condition": condition, "seed": c.seed}
            for condition in spec["conditions"]
            for c in self.classifiers.values()
            if c.condition == condition and c.name == spec["name"] and c.id in self.trained
        }

    def figure4(self):
        spec, members = self.config["figures"]["figure4"], self.figure4_members()
        inputs = {"histories": {model: classifier_paths(model)["history"] for model in members}}
        params = {
            "spec": {"name": spec["name"], "num_classes": self.num_classes, "members": members}
        }
        return inputs, params

    def figure5_spec(self) -> dict:
        return {
            "reference": self.config["dissection"]["reference"],
            "noise": self.noise_of(self.config["figures"]["figure5"]["conditions"]),
        }

    def figure5(self):
        return {"summary": DIST["summary_parquet"]}, {"spec": self.figure5_spec()}

    def dist_matrix_figure(self, condition):
        return {"summary": DIST["summary_parquet"]}, {}

    def crosscheck_figure(self):
        inputs = {"crosscheck": CROSSCHECK["parquet"], "summary": DIST["summary_parquet"]}
        spec = {**self.dissection_names(), **self.references}
        return inputs, {"spec": spec}

    # ------------------------------------------------------------------------- the report

    def summary_markdown(self):
        histories, figure1_params = self.figure1()
        inputs = {
            **histories,
            "summary": DIST["summary_parquet"],
            "crosscheck": CROSSCHECK["parquet"],
            **({"stages": STAGES["parquet"]} if self.has_data("stage_table") else {}),
            **(
                {"learning_order": LEARNING_ORDER["parquet"]}
                if self.has_data("learning_order_table")
                else {}
            ),
            **(
                {"paths": PATH_TABLES["overall"], "fit_epochs": PATH_TABLES["fit_epochs"]}
                if self.has_data("path_tables")
                else {}
            ),
        }
        network = figure1_params["spec"]
        spec = {
            "network": network["network"],
            "num_classes": self.num_classes,
            "history_noise": network["noise"],
            **self.figure5_spec(),
            **self.references,
            "lookup_table": self.config["lookup_table"] if self.lookup_sources else None,
            "learning_order_thresholds": self.config["learning_order"]["thresholds"],
        }
        return inputs, {"spec": spec}

    def study_config(self):
        return {}, {"config": design.without_how_settings(self.config)}


def rule_outputs(rule: str, **wildcards) -> dict:
    """A rule's outputs by name, for its wildcards (or wildcard patterns such as ``model="{model}"``)."""
    return OUTPUTS[rule](**wildcards)


OUTPUTS = {
    "prepare_dataset": lambda: DATA,
    "make_labels": lambda label_set: {"labels": label_set_path(label_set)},
    "train_classifier": classifier_paths,
    "import_classifier": classifier_outputs,
    "train_gan": lambda: GAN,
    "synthesize_patterns": pattern_paths,
    "evaluate_on_patterns": lambda: {"table": EVALUATIONS},
    "evaluate_lookup_tables": lambda: {"table": LOOKUP_EVALUATIONS},
    "dist_tables": lambda: DIST,
    "crosscheck_table": lambda: CROSSCHECK,
    "stage_table": lambda: STAGES,
    "diagnostics_summary": lambda: {"summary": DIAGNOSTICS_SUMMARY},
    **{
        f"figure{number}": lambda number=number: figure_paths(f"figure{number}")
        for number in range(1, 6)
    },
    "dist_matrix_figure": lambda condition: figure_paths(f"dist_matrix_{condition}"),
    "crosscheck_figure": lambda: figure_paths("crosscheck"),
    "learning_order_table": lambda: LEARNING_ORDER,
    "learning_order_figure": lambda noise: figure_paths(
        f"learning_order_p{noise}", "results/learning_order"
    ),
    "path_tables": lambda: PATH_TABLES,
    "path_figure": lambda name: figure_paths(f"paths_{name}", "results/paths"),
    "summary_markdown": lambda: {"summary": SUMMARY},
    "study_config": lambda: {"config": STUDY_CONFIG},
}
OPTIONAL_OUTPUTS = {
    "train_classifier": lambda model: {"probes": probe_path_file(model)}
}  # where the config asks
RULES = tuple(OUTPUTS)  # in the order of the study: data preparation first, the report last
WILDCARD = re.compile(r"\{(\w+)\}")


@functools.cache
def output_patterns(rule: str) -> list[re.Pattern]:
    """Each output of rule as a pattern of paths: its wildcards stand for any one path component."""
    wildcards = [
        name
        for name, parameter in inspect.signature(OUTPUTS[rule]).parameters.items()
        if parameter.default is inspect.Parameter.empty
    ]
    patterns = {name: f"{{{name}}}" for name in wildcards}
    optional = OPTIONAL_OUTPUTS[rule](**patterns) if rule in OPTIONAL_OUTPUTS else {}
    templates = [*rule_outputs(rule, **patterns).values(), *optional.values()]
    escaped = (
        re.escape(template).replace(r"\{", "{").replace(r"\}", "}") for template in templates
    )
    return [re.compile("(?:.*/)?" + WILDCARD.sub(r"[^/]+", pattern)) for pattern in escaped]


def maker_of(path, config: dict | None = None) -> str:
    """The rule that makes path, for every message about a file of the study; "" for a file no rule makes.

    path: as the plan names it, also under another folder (a storage's local copy, an absolute working
    directory). A classifier's weights and test outputs are import_classifier's for a model of the config's
    `checkpoints`, train_classifier's otherwise (or without a config)."""
    path = Path(path).as_posix()
    makers = [
        rule for rule in RULES if any(pattern.fullmatch(path) for pattern in output_patterns(rule))
    ]
    if "import_classifier" in makers and config is not None:
        return design.classifier_maker(config, Path(path).parent.name)
    return makers[0] if makers else ""
