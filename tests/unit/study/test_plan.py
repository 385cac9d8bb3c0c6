"""The study plan without Snakemake: which jobs exist, what each reads and writes, by name."""

import re
from collections import Counter

import pytest
import yaml
from config_checks import OWNED_FOLDERS, SCHEMA, demo_config
from snakemake.utils import validate

from memdissect.data import folders
from memdissect.study import plan, resources, schema, validation


def make_plan(config, workdir="."):
    """What workflow/rules/common.smk does: check the config, fill in its defaults, plan the study."""
    classifiers = validation.check_config(config, SCHEMA, validate, OWNED_FOLDERS, workdir)
    return plan.Plan(config, classifiers, folders.split_sizes(config["dataset"], workdir))


@pytest.fixture
def demo_plan():
    return make_plan(demo_config())


def by_key(jobs):
    return {(job.rule, tuple(job.wildcards.items())): job for job in jobs}


def paths_of(files) -> list[str]:
    """Every path of a job's inputs or outputs, whether one per role, a list per role or one per name."""
    return [
        path
        for value in files.values()
        for path in (
            value.values()
            if isinstance(value, dict)
            else value
            if isinstance(value, list)
            else [value]
        )
    ]


def descendants(jobs, start) -> set:
    """The jobs that read, directly or not, what the job `start` writes."""
    keys = by_key(jobs)
    maker = {path: key for key, job in keys.items() for path in job.outputs.values()}
    found, frontier = set(), {start}
    while frontier:
        found |= frontier
        frontier = {
            key
            for key, job in keys.items()
            if key not in found
            and any(maker.get(path) in frontier for path in paths_of(job.inputs))
        }
    return found - {start}


def test_the_demo_plan_has_every_job_of_the_study(demo_plan):
    counts = Counter(job.rule for job in demo_plan.jobs())
    assert (
        counts["train_classifier"] == 14 and counts["make_labels"] == 3 and counts["train_gan"] == 1
    )
    # all pairs in X_T and X_R (4 models each), one reference pair in the three other conditions
    assert counts["synthesize_patterns"] == 4 + 4 + 3 == 11 and counts["dist_matrix_figure"] == 2
    # every f2 on its pairs' patterns and every f1's untrained twin: one job for the study
    assert counts["evaluate_on_patterns"] == 1 and counts["null_baseline"] == 0
    assert len(demo_plan.pairs) == 4 * 3 + 4 * 3 + 3 and len(demo_plan.evaluated) == 11
    assert all(
        counts[rule] == 1 for rule in ("dist_tables", "figure1", "figure5", "summary_markdown")
    )


def test_the_paper_plan_matches_the_paper(repo):
    config = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    config["dataset"] = {
        "kind": "synthetic",
        "num_classes": 10,
    }  # the plan, not the data: no CIFAR-10 on disk
    config["figures"]["figure3"]["classes"] = [0, 1, 2]
    paper = make_plan(config)
    counts = Counter(job.rule for job in paper.jobs())
    assert (
        counts["train_classifier"] == 40
        and counts["synthesize_patterns"] == 8
        and len(paper.pairs) == 16
    )
    assert counts["evaluate_on_patterns"] == 1 and counts["null_baseline"] == 0
    evaluation = paper.job("evaluate_on_patterns")
    assert len(evaluation.params["pairs"]) == 16 and len(evaluation.inputs["patterns"]) == 8


def test_every_output_has_one_maker_and_every_input_is_made_or_is_source_code(demo_plan):
    jobs = demo_plan.jobs()
    outputs = [path for job in jobs for path in job.outputs.values()]
    assert len(outputs) == len(set(outputs))
    for job in jobs:
        for path in paths_of(job.inputs):
            assert path in outputs or path.endswith(".py"), (
                job.rule,
                path,
            )  # the source of an architecture
    assert set(demo_plan.final_outputs()) <= set(outputs)
    assert (
        "results/summary.md" in demo_plan.final_outputs()
        and "results/figures/figure3.png" in demo_plan.final_outputs()
    )


def test_editing_one_model_changes_only_its_own_and_its_descendants_jobs():
    before, edited = demo_config(), demo_config()
    edited["overrides"] = {"random_labels-vgg11-s2": {"epochs": 3}}
    jobs_before, jobs_after = make_plan(before).jobs(), make_plan(edited).jobs()
    old, new = by_key(jobs_before), by_key(jobs_after)
    assert old.keys() == new.keys()
    changed = {
        key
        for key in old
        if (old[key].inputs, old[key].params) != (new[key].inputs, new[key].params)
    }
    trained = ("train_classifier", (("model", "random_labels-vgg11-s2"),))
    assert (
        trained in changed and ("study_config", ()) in changed
    )  # the config as run records the override
    assert changed - {("study_config", ())} <= {trained} | descendants(jobs_before, trained)
    # f2 evaluated on patterns, and f1 of the full X_R matrix: its patterns (and its untrained twin) too
    assert {
        ("evaluate_on_patterns", ()),
        ("synthesize_patterns", (("model", "random_labels-vgg11-s2"),)),
    } <= changed
    assert {
        ("synthesize_patterns", (("model", model),))
        for model in make_plan(before).pattern_sources
        if model != "random_labels-vgg11-s2"
    }.isdisjoint(changed)
    assert ("train_classifier", (("model", "random_labels-vgg11-s1"),)) not in changed
    assert not any(rule.startswith("figure") for rule, _ in changed)


def test_a_model_trains_on_its_label_set_and_the_source_of_its_architecture(demo_plan):
    job = demo_plan.job("train_classifier", model="noise0.5-vgg11-s2")
    assert job.inputs["labels"] == "results/labels/noise0.5-seed0.parquet"
    assert job.inputs["architecture"] == [str(plan.PACKAGE_DIR / "models" / "vgg.py")]
    assert (
        job.params["settings"]["epochs"] == 25
        and job.params["resume"] == "results/resume/models/noise0.5-vgg11-s2.pt"
    )
    assert job.outputs["weights"] == "results/models/noise0.5-vgg11-s2/weights.pt"
    assert demo_plan.job("make_labels", label_set="noise0.5-seed0").params["label_set"] == {
        "noise": 0.5,
        "seed": 0,
        "num_classes": 10,
    }
    with pytest.raises(ValueError, match="'noise0.3-seed0' is not a label set of this study"):
        demo_plan.job("make_labels", label_set="noise0.3-seed0")
    with pytest.raises(ValueError, match="'true_labels-vgg11-s9' is not a model of this study"):
        demo_plan.job("train_classifier", model="true_labels-vgg11-s9")


def test_evaluation_reads_every_f2_and_the_patterns_of_each_f1_by_name(demo_plan):
    job = demo_plan.job("evaluate_on_patterns")
    assert job.inputs["patterns"] == {
        f1: f"results/patterns/{f1}.pt" for f1 in demo_plan.pattern_sources
    }
    assert job.inputs["classifiers"] == {
        f2: f"results/models/{f2}/weights.pt" for f2 in demo_plan.evaluated
    }
    assert job.params["pairs"] == [[f1, f2] for f1, f2 in demo_plan.pairs]
    assert ["true_labels-vgg13-s1", "true_labels-vgg11-s2"] in job.params["pairs"]
    # the settings of every model it builds: each f2 it loads, each f1 whose untrained twin it builds
    assert set(job.params["classifiers"]) == set(demo_plan.evaluated) | set(
        demo_plan.pattern_sources
    )
    assert job.params["classifiers"]["noise0.5-vgg11-s1"]["arch"] == "vgg11"
    assert job.outputs == {"table": "results/dist/evaluations.parquet"}
    flat = plan.named_inputs(job.inputs)
    assert flat["patterns:true_labels-vgg13-s1"] == "results/patterns/true_labels-vgg13-s1.pt"
    assert (
        flat["classifiers:true_labels-vgg11-s2"] == "results/models/true_labels-vgg11-s2/weights.pt"
    )
    assert plan.inputs_by_role(flat, "patterns") == job.inputs["patterns"]
    assert plan.inputs_by_role(flat, "classifiers") == job.inputs["classifiers"]
    assert demo_plan.job("dist_tables").inputs == {
        "evaluations": "results/dist/evaluations.parquet",
        "lookup": "results/lookup/evaluations.parquet",
    }


def test_every_trained_f1_meets_the_lookup_table_of_its_condition_in_one_job(demo_plan):
    job = demo_plan.job("evaluate_lookup_tables")
    assert demo_plan.lookup_sources == demo_plan.pattern_sources  # the demo trains every f1
    assert job.inputs["patterns"] == {
        f1: f"results/patterns/{f1}.pt" for f1 in demo_plan.pattern_sources
    }
    assert job.inputs["train"] == "results/data/train.pt" and "features" not in job.inputs
    # one label set per condition of an f1: the labels its f1 trained on
    assert job.inputs["labels"] == {
        "true_labels": "results/labels/noise0-seed0.parquet",
        "random_labels": "results/labels/noise1-seed0.parquet",
        "random_labels_wd": "results/labels/noise1-seed0.parquet",
        "random_labels_aug": "results/labels/noise1-seed0.parquet",
        "noise0.5": "results/labels/noise0.5-seed0.parquet",
    }
    assert job.params["conditions"]["random_labels-vgg13-s1"] == "random_labels"
    assert (
        job.params["table"] == {"k": 1, "smoothing": 0.01, "num_classes": 10}
        and job.params["features"] is None
    )
    assert job.outputs == {"table": "results/lookup/evaluations.parquet"}
    described = demo_plan.job("dist_tables").params["lookup"]
    assert described[0] == {
        "f1": "true_labels-vgg11-s1",
        "f2": "knn",
        "condition": "true_labels",
        "noise": 0.0,
        "f1_network": "vgg11-s1",
        "f2_network": "knn",
        "f1_name": "vgg11",
        "f2_name": "knn",
    }
    assert [row["f1"] for row in described] == demo_plan.pattern_sources
    assert demo_plan.job("summary_markdown").params["spec"]["lookup_table"]["k"] == 1


def test_the_lookup_table_in_a_fixed_models_features_reads_its_weights():
    config = demo_config()
    config["lookup_table"] = {"k": 3, "smoothing": 0.5, "features": "true_labels-vgg13-s1"}
    job = make_plan(config).job("evaluate_lookup_tables")
    assert job.inputs["features"] == "results/models/true_labels-vgg13-s1/weights.pt"
    assert job.params["features"]["model"] == "true_labels-vgg13-s1"
    assert job.params["features"]["settings"]["arch"] == "vgg13"
    assert job.params["table"] == {"k": 3, "smoothing": 0.5, "num_classes": 10}


def test_a_lookup_table_switched_off_plans_and_reads_nothing_of_it():
    config = demo_config()
    config["lookup_table"] = {"enabled": False}
    study_plan = make_plan(config)
    assert "evaluate_lookup_tables" not in {job.rule for job in study_plan.jobs()}
    assert not any("results/lookup" in path for path in study_plan.final_outputs())
    tables = study_plan.job("dist_tables")
    assert (
        tables.inputs == {"evaluations": "results/dist/evaluations.parquet"}
        and tables.params["lookup"] == []
    )
    assert study_plan.job("summary_markdown").params["spec"]["lookup_table"] is None


def test_figures_read_their_files_by_condition_or_model(demo_plan):
    figure1 = demo_plan.job("figure1")
    assert list(figure1.inputs["histories"]) == ["random_labels", "true_labels"]
    assert figure1.params["spec"]["noise"] == {"random_labels": 1.0, "true_labels": 0.0}
    figure3 = demo_plan.job("figure3")
    assert figure3.inputs["patterns"] == {
        "true_labels": "results/patterns/true_labels-vgg11-s1.pt",
        "random_labels": "results/patterns/random_labels-vgg11-s1.pt",
    }
    members = demo_plan.job("figure4").params["spec"]["members"]
    assert (
        members["random_labels-vgg11-s3"] == {"condition": "random_labels", "seed": 3}
        and len(members) == 6
    )


def test_x_t_and_x_r_are_found_by_noise_or_named_in_the_config():
    config = demo_config()
    config["conditions"] = {"random_first": {"noise": 1.0}, **config["conditions"]}
    config["models"][0]["conditions"].append("random_first")
    derived = make_plan(config)
    assert derived.references == {"true_labels": "true_labels", "random_labels": "random_first"}
    config = demo_config()
    config["dissection"]["random_labels"] = "random_labels_wd"
    named = make_plan(config).job("summary_markdown").params["spec"]
    assert named["true_labels"] == "true_labels" and named["random_labels"] == "random_labels_wd"


def test_a_study_without_a_random_label_condition_has_no_x_r_and_a_named_one_must_exist():
    config = demo_config()
    for name in ("random_labels", "random_labels_wd", "random_labels_aug"):
        config["conditions"][name]["noise"] = 0.9
    assert make_plan(config).references == {"true_labels": "true_labels", "random_labels": None}
    config = demo_config()
    config["dissection"]["random_labels"] = "random_labelz"
    with pytest.raises(
        schema.ConfigError, match="dissection.random_labels: 'random_labelz' is not a condition"
    ):
        make_plan(config)


def test_settings_that_change_how_are_in_no_job(demo_plan):
    for job in demo_plan.jobs():
        text = repr(job.params)
        assert "chunk_size" not in text and "'device'" not in text, job.rule


LOOP = re.compile(
    r"^for (\w+) in range\((\d+), (\d+)\):\n\n?    rule:\n        name:\n            f\"(\w*)\{\1\}(\w*)\"",
    re.MULTILINE,
)


def rules_defined_in(path) -> list[str]:
    """The rules a workflow file defines: `rule <name>:`, and `rule:` with `name:` in a loop over a range."""
    text = path.read_text()
    looped = [
        f"{before}{number}{after}"
        for _, first, last, before, after in LOOP.findall(text)
        for number in range(int(first), int(last))
    ]
    return re.findall(r"^rule (\w+):", text, re.MULTILINE) + looped


def test_the_plan_knows_every_rule_of_the_workflow_and_no_other(repo):
    rule_files = [repo / "Snakefile", *sorted((repo / "workflow" / "rules").glob("*.smk"))]
    rules = {name for path in rule_files for name in rules_defined_in(path)}
    planned_elsewhere = {
        "all",
        "download_dataset",
        "unpack_archive",
    }  # the target, and what only the disk decides
    assert rules - planned_elsewhere == set(plan.RULES)


def test_each_folder_of_results_is_made_by_the_rules_of_one_file(repo):
    """The Snakefile's includes read as the study's table of contents: one rule file per stage of results/."""
    makers = {}
    for path in sorted((repo / "workflow" / "rules").glob("*.smk")):
        for rule in rules_defined_in(path):
            if rule in plan.RULES:
                wildcards = {
                    "model": "m",
                    "label_set": "l",
                    "condition": "c",
                    "noise": "0.5",
                    "name": "n",
                }
                parameters = plan.OUTPUTS[rule].__code__.co_varnames[
                    : plan.OUTPUTS[rule].__code__.co_argcount
                ]
                outputs = plan.rule_outputs(
                    rule, **{name: wildcards[name] for name in parameters if name in wildcards}
                )
                for output in outputs.values():
                    folder = output.split("/")[1] if output.count("/") > 1 else "results"
                    makers.setdefault(folder, set()).add(path.name)
    assert all(len(files) == 1 for files in makers.values()), makers
    assert (
        makers["models"] == {"classifiers.smk"}
        and makers["dist"] == {"dist.smk"}
        and makers["patterns"] == {"patterns.smk"}
    )


def test_the_cifar100_config_plans_100_classes_a_torchvision_network_and_the_download(
    repo, tmp_path
):
    config = yaml.safe_load((repo / "config" / "cifar100.yaml").read_text())
    cifar100 = make_plan(config, tmp_path)
    counts = Counter(job.rule for job in cifar100.jobs())
    assert (
        counts["train_classifier"] == 12
        and counts["synthesize_patterns"] == 3
        and len(cifar100.pairs) == 9
    )
    assert counts["evaluate_on_patterns"] == 1 and counts["null_baseline"] == 0
    resnet18 = cifar100.job("train_classifier", model="true_labels-resnet18-s1")
    assert resnet18.params["settings"]["num_classes"] == 100
    assert resnet18.inputs["architecture"][1].endswith("torchvision/version.py")
    assert (
        cifar100.dataset_source(user_folder_exists=False)["source"]
        == "results/data/download/cifar100/cifar-100-python"
    )
    paper = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    paper["dataset"] = {"kind": "synthetic", "num_classes": 10}
    paper["figures"]["figure3"]["classes"] = [0, 1, 2]
    assert cifar100.pattern_minutes(attempt=1) > make_plan(paper).pattern_minutes(
        attempt=1
    )  # 10x the rows
    # (9 pairs + 3 twins) x 100 classes x 100 starts = 120,000 rows against (16 + 8) x 10 x 100 = 24,000
    assert cifar100.evaluation_minutes(attempt=1) == resources.evaluation_minutes(120_000)
    assert make_plan(paper).evaluation_minutes(attempt=2) == resources.evaluation_minutes(
        24_000, attempt=2
    )


def test_a_job_of_no_rule_is_refused_naming_the_rules(demo_plan):
    with pytest.raises(
        ValueError, match="'describe_pair' is not a rule of the plan; valid: prepare_dataset, "
    ):
        demo_plan.job("describe_pair", f1="a", f2="b")


def checkpoints_only(tmp_path) -> dict:
    """Two networks trained elsewhere in one condition, and nothing else: no models, no dissection, no figures."""
    import torch

    (tmp_path / "resources").mkdir()
    for name in ("mine", "theirs"):
        torch.save(
            {
                "features.weight": torch.zeros(8, 3, 3, 3),
                "fc.weight": torch.zeros(10, 8),
                "fc.bias": torch.zeros(10),
            },
            tmp_path / "resources" / f"{name}.pt",
        )
    (tmp_path / "mynets.py").write_text("def small_cnn(num_classes):\n    pass\n")
    return {
        "dataset": {"kind": "synthetic"},
        "conditions": {"true_labels": {"noise": 0.0}},
        "checkpoints": [
            {
                "name": name,
                "arch": "mynets:small_cnn",
                "weights": f"resources/{name}.pt",
                "condition": "true_labels",
                "mean": [0.5] * 3,
                "std": [0.25] * 3,
            }
            for name in ("mine", "theirs")
        ],
    }


def test_a_study_of_checkpoints_alone_trains_nothing_and_plans_only_what_it_can_show(tmp_path):
    config = checkpoints_only(tmp_path)
    study = make_plan(config, tmp_path)
    counts = Counter(job.rule for job in study.jobs())
    assert (
        config["models"] == []
        and counts["train_classifier"] == 0
        and counts["import_classifier"] == 2
    )
    assert config["dissection"]["reference"] == "mine-s1" and config["dissection"]["compare"] == [
        "theirs-s1"
    ]
    assert study.pairs == [("true_labels-mine-s1", "true_labels-theirs-s1")]
    for absent in (
        "figure1",
        "figure4",
        "figure5",
        "stage_table",
        "make_labels",
        "dist_matrix_figure",
    ):
        assert counts[absent] == 0, absent  # no history; one noise level; no full matrix asked for
    assert (
        counts["evaluate_lookup_tables"] == 0 and study.lookup_sources == []
    )  # no labels of the study's own
    assert all(
        counts[rule] == 1
        for rule in ("figure2", "figure3", "crosscheck_figure", "summary_markdown")
    )
    assert config["figures"]["figure1"] == {"network": None, "conditions": []}
    assert (
        config["figures"]["figure3"]["conditions"] == ["true_labels"]
        and config["dataset"]["num_classes"] == 10
    )
    assert "stages" not in study.job("summary_markdown").inputs
    assert not any("results/stages" in path or "figure1" in path for path in study.final_outputs())


def test_figure_defaults_follow_the_study_and_figure_5_needs_two_noise_levels():
    config = demo_config()
    for key in ("figure1", "figure2", "figure3", "figure4", "figure5"):
        config["figures"].pop(key)
    config["dissection"].pop("reference")
    study = make_plan(config)
    figures = config["figures"]
    assert (
        config["dissection"]["reference"] == "vgg11-s1"
        and figures["figure1"]["network"] == "vgg11-s1"
    )
    assert (
        figures["figure1"]["conditions"] == list(config["conditions"])
        and figures["figure4"]["name"] == "vgg11"
    )
    assert figures["figure5"]["conditions"] == list(config["conditions"]) and figures["figure3"][
        "classes"
    ] == [0, 1, 2]
    assert study.has_data("figure5")
    one_level = demo_config()
    one_level["figures"]["figure5"]["conditions"] = [
        "random_labels",
        "random_labels_wd",
    ]  # both p = 1
    assert not make_plan(one_level).has_data("figure5")
    assert "results/figures/figure5.png" not in make_plan(one_level).final_outputs()


# ----------------------------------------------------------------------------- which rule makes a file


def test_every_planned_output_is_made_by_the_rule_of_its_job(demo_plan):
    for job in demo_plan.jobs():
        for path in job.outputs.values():
            assert plan.maker_of(path) == job.rule, path
            assert (
                plan.maker_of(f"/scratch/run/.snakemake/storage/fs/{path}") == job.rule
            )  # a storage's copy


def test_a_file_no_rule_makes_has_no_maker_and_an_imported_model_is_import_classifiers():
    assert (
        plan.maker_of("results/models/a-b-s1/weights.pt/extra") == plan.maker_of("notes.txt") == ""
    )
    config = {
        **demo_config(),
        "checkpoints": [
            {
                "name": "outside",
                "weights": "w.pt",
                "arch": "vgg11",
                "seed": 4,
                "condition": "true_labels",
            }
        ],
    }
    assert (
        plan.maker_of("results/models/true_labels-outside-s4/weights.pt", config)
        == "import_classifier"
    )
    assert plan.maker_of("results/models/true_labels-outside-s4/weights.pt") == "train_classifier"
    assert (
        plan.maker_of("results/models/true_labels-outside-s4/history.parquet", config)
        == "train_classifier"
    )


def test_no_script_names_the_rule_of_a_file_it_reads(repo):
    """made_by is asked of the plan (maker_of), never written out: one source for which rule makes a file."""
    sources = [
        *(repo / "workflow" / "scripts").glob("*.py"),
        *(repo / "src" / "memdissect").rglob("*.py"),
    ]
    assert [path.name for path in sources if re.search(r"made_by=[\"']", path.read_text())] == []


README_EXAMPLES = {
    "{model}": "true_labels-vgg11-s1",
    "{p}": "0.5",
    "{s}": "0",
    "{condition}": "true_labels",
}


def rules_named(text: str) -> set[str]:
    """The rules a cell names in backticks, a range such as `figure1` … `figure5` included."""
    named = set(re.findall(r"`([a-z_0-9]+)`", text))
    for stem, first, last in re.findall(r"`([a-z_]+)(\d+)` … `\1(\d+)`", text):
        named |= {f"{stem}{number}" for number in range(int(first), int(last) + 1)}
    return named & set(plan.RULES)


def example_paths(names: list[str]) -> list[str]:
    """A row's files, its placeholders filled in: the first a path, the others beside it or its suffixes."""
    first = names[0]
    for placeholder, example in README_EXAMPLES.items():
        first = first.replace(placeholder, example)
    numbers = re.search(r"\{(\d+)\.\.(\d+)\}", first)
    firsts = (
        [
            first.replace(numbers.group(0), str(n))
            for n in range(int(numbers[1]), int(numbers[2]) + 1)
        ]
        if numbers
        else [first]
    )
    return [
        path
        for one in firsts
        for path in [
            one,
            *(
                one.rsplit(".", 1)[0] + name
                if name.startswith(".")
                else f"{one.rsplit('/', 1)[0]}/{name}"
                for name in names[1:]
            ),
        ]
    ]


def readme_outputs(repo) -> list[tuple[list[str], set[str]]]:
    """The README's Outputs table: per row, its files (examples) and the rules it names."""
    section = (repo / "README.md").read_text().split("\n## Outputs\n")[1].split("\n## ")[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `"):
            files, _, makers = line.strip("|").split(" | ")[:3]
            files = re.sub(
                r"\(`[^)]*\)", "", files
            )  # a setting the files depend on, in parentheses
            rows.append((example_paths(re.findall(r"`([^`]+)`", files)), rules_named(makers)))
    return rows


def test_the_readme_outputs_table_names_the_rule_the_plan_says_makes_each_file(repo):
    rows = readme_outputs(repo)
    assert len(rows) > 15
    for paths, rules in rows:
        for path in paths:
            assert (plan.maker_of(path) in rules) if rules else plan.maker_of(path) == "", (
                path,
                rules,
            )
    named = set().union(*(rules for _, rules in rows))
    assert set(plan.RULES) - named == set(), "rules the README's Outputs table leaves out"
