"""A bad config stops `snakemake -n` before any job, with one message: key, bad value, what is valid.

Each case mutates one thing of config/demo.yaml. The same table runs twice: through Snakemake's
dry run (the user's view), and through the checks directly (fast, and without the workflow).
"""

import copy

import pytest
from config_checks import OWNED_FOLDERS, SCHEMA, demo_config, validate_config, value_at
from workflow_runs import at_once, selected_parameters, snakemake, write_config

from memdissect.data import folders
from memdissect.study import schema, validation


def put(*path, value):
    """A mutation that sets the config value at path (keys and list indices)."""

    def mutate(config, workdir):
        value_at(config, path[:-1])[path[-1]] = value

    return mutate


def append(*path, value):
    def mutate(config, workdir):
        value_at(config, path).append(value)

    return mutate


def on_disk(folders=(), files=(), then=None):
    """Make folders and empty files under the working directory, then mutate the config."""

    def mutate(config, workdir):
        for name in folders:
            (workdir / name).mkdir(parents=True, exist_ok=True)
        for name in files:
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            (workdir / name).touch()
        then(config, workdir)

    return mutate


def both(*mutations):
    def mutate(config, workdir):
        for mutation in mutations:
            mutation(config, workdir)

    return mutate


IMAGE_FOLDER = {"kind": "imagefolder", "root": "resources/jpeg", "num_classes": 10}
CIFAR10 = {"kind": "cifar10", "root": "resources/cifar10", "num_classes": 10}


def case(name, mutate, *fragments):
    """A bad config: how it differs from the demo, and what its message must contain."""
    return pytest.param(mutate, list(fragments), id=name)


OUTSIDE = {
    "name": "released",
    "arch": "torchvision:resnet18",
    "weights": "resources/released.pt",
    "condition": "true_labels",
    "mean": [0.5, 0.5, 0.5],
    "std": [0.25, 0.25, 0.25],
}


def saved(name, content):
    """Write a file as torch.save does, then mutate the config."""

    def mutate(config, workdir):
        import torch

        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        torch.save(content(torch) if callable(content) else content, workdir / name)

    return mutate


def plain_state_dict(outputs=10):
    """A state_dict whose output layer (its last 2-D weight) has `outputs` rows, as a ResNet-18's fc."""
    return lambda torch: {
        "conv1.weight": torch.zeros(4, 3, 3, 3),
        "fc.weight": torch.zeros(outputs, 4),
        "fc.bias": torch.zeros(outputs),
    }


def with_checkpoint(content=None, **changes):
    """A checkpoint entry whose weights file exists (a state_dict of 10 outputs unless given), changed as given."""
    return both(
        saved("resources/released.pt", plain_state_dict() if content is None else content),
        put(
            "checkpoints",
            value=[
                {key: value for key, value in {**OUTSIDE, **changes}.items() if value is not None}
            ],
        ),
    )


def memdissect_checkpoint(arch="vgg13", width=0.5, num_classes=10):
    return {
        "format": "memdissect-classifier-v1",
        "settings": {"arch": arch, "width": width, "num_classes": num_classes},
        "classes": [],
        "state_dict": {},
    }


BAD_CONFIGS = [
    case(
        "unknown-torchvision-model",
        put("models", 0, "arch", value="torchvision:resnet19"),
        "models[0].arch",
        "torchvision has no classification model 'resnet19'",
        "torchvision:<name>",
    ),
    case(
        "users-module-missing",
        put("models", 0, "arch", value="mymodels:small_cnn"),
        "models[0].arch",
        "no module 'mymodels' in the working directory",
        "<module>:<function>",
    ),
    case(
        "outside-architecture-with-width",
        both(
            put("models", 0, "arch", value="torchvision:resnet18"),
            put("models", 0, "width", value=0.5),
        ),
        "models[0].width",
        "0.5",
        "valid: 1.0",
    ),
    case(
        "checkpoint-file-missing",
        put("checkpoints", value=[OUTSIDE]),
        "checkpoints[0].weights",
        "'resources/released.pt' does not exist",
    ),
    case(
        "checkpoint-inside-results",
        with_checkpoint(weights="results/released.pt"),
        "checkpoints[0].weights",
        "lies inside results/",
    ),
    case(
        "checkpoint-without-normalization",
        with_checkpoint(mean=None),
        "checkpoints[0]",
        "needs `mean` and `std`",
    ),
    case(
        "checkpoint-normalization-for-a-built-in",
        with_checkpoint(arch="vgg11", mean=[0, 0, 0], std=[1, 1, 1]),
        "checkpoints[0].mean",
        "vgg11 normalizes its input itself",
    ),
    case(
        "checkpoint-of-other-classes",
        with_checkpoint(plain_state_dict(outputs=5)),
        "checkpoints[0].weights",
        "'resources/released.pt' holds a network of 5 outputs",
        "output layer fc.weight is 5 x 4",
        "valid: a network of 10 outputs",
    ),
    case(
        "checkpoint-of-python-objects",
        with_checkpoint(lambda torch: torch.nn.Linear(4, 10)),
        "checkpoints[0].weights",
        "holds Python objects (torch.nn.modules.linear.Linear)",
        "valid: a file of tensors",
    ),
    case(
        "checkpoint-not-a-torch-file",
        both(
            on_disk(files=["resources/released.pt"], then=lambda c, w: None),
            put("checkpoints", value=[OUTSIDE]),
        ),
        "checkpoints[0].weights",
        "is truncated or not a file torch.save wrote",
    ),
    case(
        "checkpoint-without-a-state-dict",
        with_checkpoint({"epoch": 3, "note": "no tensors"}),
        "checkpoints[0].weights",
        "holds no state_dict",
    ),
    case(
        "memdissect-checkpoint-of-another-architecture",
        with_checkpoint(memdissect_checkpoint(), arch="vgg11", width=0.5, mean=None, std=None),
        "checkpoints[0].arch",
        "'vgg11', but 'resources/released.pt' is a memdissect checkpoint of vgg13 at width 0.5",
        "valid: 'vgg13'",
    ),
    case(
        "memdissect-checkpoint-of-other-classes",
        with_checkpoint(
            memdissect_checkpoint(num_classes=100), arch="vgg13", width=0.5, mean=None, std=None
        ),
        "checkpoints[0].weights",
        "with 100 classes, but the data set has 10",
    ),
    case(
        "memdissect-checkpoint-with-normalization",
        with_checkpoint(memdissect_checkpoint(), arch="vgg13", width=0.5),
        "checkpoints[0].mean",
        "which knows its normalization",
        "valid: no mean or std",
    ),
    case(
        "no-network-at-all",
        put("models", value=[]),
        "models, checkpoints: the config names no network",
        "`checkpoints`",
    ),
    case(
        "no-pair-to-dissect",
        put("dissection", value={"reference": "vgg11-s1", "compare": []}),
        "dissection.compare",
        "shares a condition with the reference vgg11-s1",
        "no pair to dissect",
    ),
    case(
        "image-folder-archive-without-a-class-count",
        on_disk(
            files=["jpeg.tar.gz"],
            then=put(
                "dataset",
                value={"kind": "imagefolder", "root": "resources/jpeg", "archive": "jpeg.tar.gz"},
            ),
        ),
        "dataset.num_classes",
        "not known before dataset.archive 'jpeg.tar.gz' is unpacked",
        "the number of class folders under its train/",
    ),
    case(
        "checkpoint-in-unknown-condition",
        with_checkpoint(condition="clean"),
        "checkpoints[0].condition",
        "'clean'",
        "true_labels",
    ),
    case(
        "checkpoint-takes-a-trained-id",
        with_checkpoint(name="vgg11"),
        "checkpoints[0]",
        "'true_labels-vgg11-s1' is taken by another model",
    ),
    case(
        "figure-of-an-imported-network",
        both(with_checkpoint(), put("figures", "figure1", "network", value="released-s1")),
        "figures.figure1.network",
        "'released-s1'",
        "a network this study trains",
    ),
    case(
        "unknown-architecture",
        put("models", 0, "arch", value="vgg12"),
        "models[0].arch",
        "'vgg12'",
        "vgg11, vgg13, resnet32",
    ),
    case(
        "unknown-dataset-kind",
        put("dataset", "kind", value="cifar1000"),
        "dataset.kind",
        "'cifar1000'",
        "cifar10, cifar100, svhn, mnist, fashionmnist, imagefolder, synthetic",
    ),
    case(
        "model-group-names-unknown-condition",
        append("models", 1, "conditions", value="noise0.7"),
        "models[1].conditions[3]",
        "'noise0.7'",
        "did you mean 'noise0.5'",
        "true_labels, random_labels",
    ),
    case(
        "figure-names-unknown-condition",
        put("figures", "figure5", "conditions", value=["noise0.5", "rand_labels"]),
        "figures.figure5.conditions[1]",
        "'rand_labels'",
        "did you mean 'random_labels'",
    ),
    case(
        "ablation-names-unknown-condition",
        put("figures", "figure2", "ablations", value=["random_labels_ag"]),
        "figures.figure2.ablations[0]",
        "'random_labels_ag'",
        "random_labels_aug",
    ),
    case(
        "noise-above-one",
        put("conditions", "noise0.5", "noise", value=1.5),
        "conditions.noise0.5.noise",
        "1.5",
        "a number from 0 to 1",
    ),
    case(
        "noise-below-zero",
        put("conditions", "random_labels", "noise", value=-0.1),
        "conditions.random_labels.noise",
        "-0.1",
        "a number from 0 to 1",
    ),
    case(
        "noise-missing",
        put("conditions", "noise0.5", value={"weight_decay": 1.0e-4}),
        "conditions.noise0.5",
        "'noise' is missing",
        "noise: a number from 0 to 1",
    ),
    case(
        "zero-epochs", put("training", "epochs", value=0), "training.epochs", "0", "an integer >= 1"
    ),
    case(
        "fractional-epochs",
        put("training", "epochs", value=2.5),
        "training.epochs",
        "2.5",
        "an integer >= 1",
    ),
    case(
        "negative-batch-size",
        put("models", 2, "batch_size", value=-32),
        "models[2].batch_size",
        "-32",
        "an integer >= 1",
    ),
    case("zero-learning-rate", put("training", "lr", value=0), "training.lr", "0", "a number > 0"),
    case(
        "learning-rate-read-as-text",
        put("training", "lr", value="1e-3"),
        "training.lr",
        "'1e-3'",
        "a number > 0",
        "1.0e-4",
    ),
    case(
        "nan-learning-rate",
        put("gan", "lr", value=float("nan")),
        "gan.lr",
        "nan",
        "a finite number",
    ),
    case(
        "zero-starts", put("patterns", "starts", value=0), "patterns.starts", "0", "an integer >= 1"
    ),
    case(
        "negative-iterations",
        put("patterns", "iterations", value=-100),
        "patterns.iterations",
        "-100",
        "an integer >= 1",
    ),
    case(
        "reference-not-in-study",
        put("dissection", "reference", value="vgg11-s7"),
        "dissection.reference",
        "'vgg11-s7'",
        "vgg11-s1, vgg11-s2, vgg11-s3, vgg13-s1",
    ),
    case(
        "compared-network-not-in-study",
        put("dissection", "compare", value=["vgg11-s2", "resnet32-s1"]),
        "dissection.compare[1]",
        "'resnet32-s1'",
        "vgg11-s1, vgg11-s2",
    ),
    case(
        "reference-is-not-a-network",
        put("dissection", "reference", value="vgg11"),
        "dissection.reference",
        "'vgg11'",
        "{name}-s{seed}",
    ),
    case(
        "figure-network-not-in-study",
        put("figures", "figure1", "network", value="vgg13-s2"),
        "figures.figure1.network",
        "'vgg13-s2'",
        "did you mean 'vgg13-s1'",
    ),
    case(
        "figure-name-not-in-study",
        put("figures", "figure4", "name", value="vgg16"),
        "figures.figure4.name",
        "'vgg16'",
        "vgg11, vgg13",
    ),
    case(
        "duplicate-model-id",
        append("models", value={"arch": "vgg13", "seeds": [1], "conditions": ["true_labels"]}),
        "models[3]",
        "'true_labels-vgg13-s1'",
        "its own `name`",
    ),
    case(
        "override-of-unknown-model",
        put("overrides", value={"true_labels-vgg11-s9": {"epochs": 5}}),
        "overrides: 'true_labels-vgg11-s9'",
        "did you mean 'true_labels-vgg11-s",
        "valid: true_labels-vgg11-s1",
    ),
    case(
        "unknown-override-key",
        put("overrides", value={"true_labels-vgg11-s1": {"epoch": 5}}),
        "overrides.true_labels-vgg11-s1.epoch",
        "did you mean 'epochs'",
        "batch_size",
    ),
    case(
        "unknown-top-level-key",
        put("trainig", value={"epochs": 3}),
        "trainig",
        "did you mean 'training'",
        "dataset, labels",
    ),
    case(
        "unknown-nested-key",
        put("gan", "beta_1", value=0.5),
        "gan.beta_1",
        "did you mean 'beta1'",
        "epochs, batch_size",
    ),
    case(
        "unknown-condition-key",
        put("conditions", "true_labels", "weightdecay", value=1.0e-4),
        "conditions.true_labels.weightdecay",
        "did you mean 'weight_decay'",
    ),
    case(
        "condition-name-with-a-dash",
        put("conditions", "true-labels", value={"noise": 0.0}),
        "conditions",
        "'true-labels'",
        "a name of letters, digits, '_' and '.'",
    ),
    case(
        "seeds-not-a-list",
        put("models", 0, "seeds", value=3),
        "models[0].seeds",
        "3",
        "a list (each item an integer >= 0",
    ),
    case(
        "seeds-of-text",
        put("models", 0, "seeds", value=["one", 2]),
        "models[0].seeds[0]",
        "'one'",
        "an integer >= 0",
    ),
    case(
        "repeated-seed",
        put("models", 0, "seeds", value=[1, 1]),
        "models[0].seeds",
        "[1, 1]",
        "no repeats",
    ),
    case(
        "width-list",
        put("training", "width", value=[0.125, 0.25]),
        "training.width",
        "[0.125, 0.25]",
        "a number > 0",
    ),
    case("unknown-device", put("device", value="gpu"), "device", "'gpu'", "auto, cuda, cpu"),
    case(
        "class-count-unlike-the-data-set",
        put("dataset", "num_classes", value=5),
        "dataset.num_classes",
        "5",
        "valid: 10",
    ),
    case(
        "figure-class-index-out-of-range",
        put("figures", "figure3", "classes", value=[0, 12]),
        "figures.figure3.classes[1]",
        "12",
        "from 0 to 9",
    ),
    case(
        "image-folder-missing",
        put("dataset", value=IMAGE_FOLDER),
        "dataset.root",
        "'resources/jpeg'",
        "dataset.archive",
    ),
    case(
        "archive-missing",
        put("dataset", value={**IMAGE_FOLDER, "archive": "jpeg.tar.gz"}),
        "dataset.archive",
        "'jpeg.tar.gz'",
        "an existing .tar.gz",
    ),
    case(
        "image-folder-class-lists-differ",
        on_disk(
            folders=["resources/jpeg/train/cat", "resources/jpeg/test/dog"],
            then=put("dataset", value=IMAGE_FOLDER),
        ),
        "dataset.root",
        "resources/jpeg",
        "only in train: ['cat']; only in test: ['dog']",
    ),
    case(
        "cifar10-folder-incomplete",
        on_disk(
            files=["resources/cifar10/cifar-10-batches-py/data_batch_1"],
            then=put("dataset", value=CIFAR10),
        ),
        "dataset.root",
        "cifar-10-batches-py",
        "data_batch_2",
        "test_batch",
        "missing",
    ),
    case(
        "figure-class-not-a-synthetic-class",
        put("figures", "figure3", "classes", value=["disk", "rng"]),
        "figures.figure3.classes[1]",
        "'rng'",
        "did you mean 'ring'",
        "valid: disk, ring, square, cross",
    ),
    case(
        "figure-class-not-a-cifar10-class",
        both(
            put("dataset", value=CIFAR10),
            put("figures", "figure3", "classes", value=["airplane", "dgo"]),
        ),
        "figures.figure3.classes[1]",
        "'dgo'",
        "did you mean 'dog'",
        "valid: airplane, automobile, bird",
    ),
    case(
        "figure-condition-without-models",
        both(
            put("conditions", "noise0.8", value={"noise": 0.8}),
            append("figures", "figure5", "conditions", value="noise0.8"),
        ),
        "figures.figure5.conditions[3]",
        "'noise0.8'",
        "not a condition with models",
        "valid: true_labels, random_labels, noise0.5",
    ),
    case(
        "subset-of-the-synthetic-data-set",
        put("dataset", "subset", value={"train_per_class": 10, "test_per_class": 5}),
        "dataset.subset",
        "synthetic data set takes no subset",
        "dataset.train_size and dataset.test_size",
    ),
    case(
        "subset-larger-than-a-class-of-the-image-folder",
        on_disk(
            files=[
                *(
                    f"resources/jpeg/train/{name}/{index}.png"
                    for name, count in (("cat", 2), ("dog", 3))
                    for index in range(count)
                ),
                "resources/jpeg/test/cat/0.png",
                "resources/jpeg/test/dog/0.png",
            ],
            then=both(
                put(
                    "dataset",
                    value={
                        **IMAGE_FOLDER,
                        "num_classes": 2,
                        "subset": {"train_per_class": 3, "test_per_class": 1},
                    },
                ),
                put("figures", "figure3", "classes", value=[0, 1]),
            ),
        ),
        "dataset.subset.train_per_class",
        "3 is more than the 2 train images of class 'cat'",
        "valid: an integer from 1 to 2",
    ),
    case(
        "data-set-inside-results",
        put("dataset", value={**IMAGE_FOLDER, "root": "results/jpeg"}),
        "dataset.root",
        "'results/jpeg'",
        "inside results/",
        "valid: a path outside results/, logs/, .snakemake/",
    ),
    case(
        "lookup-k-zero",
        put("lookup_table", "k", value=0),
        "lookup_table.k",
        "0 is out of range",
        "valid: an integer >= 1",
    ),
    case(
        "lookup-k-above-the-training-images",
        put("lookup_table", "k", value=1001),
        "lookup_table.k",
        "1001 is more than the 1000 training images",
        "valid: an integer from 1 to 1000",
    ),
    case(
        "lookup-smoothing-zero",
        put("lookup_table", "smoothing", value=0.0),
        "lookup_table.smoothing",
        "0.0 is out of range",
        "valid: a number > 0 and <= 1",
    ),
    case(
        "lookup-smoothing-above-one",
        put("lookup_table", "smoothing", value=1.5),
        "lookup_table.smoothing",
        "1.5 is out of range",
        "valid: a number > 0 and <= 1",
    ),
    case(
        "lookup-features-misspelt",
        put("lookup_table", "features", value="pixel"),
        "lookup_table.features",
        "'pixel' is not valid",
        "valid: pixels, or a model id",
    ),
    case(
        "lookup-features-not-a-model-of-the-study",
        put("lookup_table", "features", value="true_labels-vgg11-s9"),
        "lookup_table.features",
        "'true_labels-vgg11-s9' is not pixels or a model id of this study",
        "did you mean 'true_labels-vgg11-s3'",
        "valid: pixels, true_labels-vgg11-s1",
    ),
    case(
        "archive-inside-snakemake-folder",
        put("dataset", value={**IMAGE_FOLDER, "archive": ".snakemake/jpeg.tar.gz"}),
        "dataset.archive",
        "'.snakemake/jpeg.tar.gz'",
        "inside .snakemake/",
        "valid: a path outside results/",
    ),
]


BAD_CONFIG_CASES = {param.id: param.values for param in BAD_CONFIGS}  # {name: (mutate, fragments)}
DRY_RUN_TEST = "test_bad_config_stops_the_dry_run_with_one_clear_message"


@pytest.fixture(scope="module")
def bad_config_dry_runs(request, tmp_path_factory) -> dict:
    """`snakemake -n` on each bad config this session selected, each in a folder of its own, as many at once as
    there are cores (a dry run is one process on one core): {name: (folder, completed process)}."""
    runs = {}
    for name in selected_parameters(request.session, DRY_RUN_TEST, "name"):
        folder = tmp_path_factory.mktemp(name)
        config = demo_config()
        BAD_CONFIG_CASES[name][0](config, folder)
        runs[name] = (folder, write_config(folder, config))

    def dry_run(run):
        folder, config_path = run
        return snakemake(folder, "-n", config_path=config_path, check=False, timeout=300)

    results = at_once(dry_run, runs.values())
    return {name: (runs[name][0], result) for name, result in zip(runs, results, strict=True)}


@pytest.mark.workflow
@pytest.mark.parametrize("name", BAD_CONFIG_CASES)
def test_bad_config_stops_the_dry_run_with_one_clear_message(bad_config_dry_runs, name):
    folder, result = bad_config_dry_runs[name]
    assert result.returncode != 0, result.stdout[-3000:]
    assert "Traceback" not in result.stdout, result.stdout[-3000:]
    message = next(
        (line for line in result.stdout.splitlines() if line.startswith("config error: ")), None
    )
    assert message is not None, result.stdout[-3000:]
    for fragment in BAD_CONFIG_CASES[name][1]:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert not (folder / "results").exists() or not any((folder / "results").rglob("*"))


@pytest.mark.parametrize("mutate, fragments", BAD_CONFIGS)
def test_bad_config_is_refused_by_the_checks_alone(tmp_path, mutate, fragments):
    config = demo_config()
    mutate(config, tmp_path)
    with pytest.raises(schema.ConfigError) as refused:
        validate_config(config, tmp_path)
    assert "\n" not in str(refused.value)
    for fragment in fragments:
        assert fragment in str(refused.value)


@pytest.mark.parametrize("name", ["demo.yaml", "config.yaml"])
def test_shipped_configs_pass(repo, name, tmp_path):
    import yaml

    config = validate_config(yaml.safe_load((repo / "config" / name).read_text()), tmp_path)
    assert (
        config["overrides"] == {} and config["dataset"]["archive"] is None
    )  # the schema's defaults filled in


def test_an_empty_config_names_no_network_and_is_refused_saying_so():
    with pytest.raises(
        schema.ConfigError, match="models, checkpoints: the config names no network"
    ):
        validate_config({})


def schema_properties(node: dict, definitions: dict, path=(), in_entry=False):
    """(path, property schema with its $ref resolved, inside a condition/model/override entry?) for every key."""
    for key, child in node.get("properties", {}).items():
        if "$ref" in child:
            child = {**resolve(child["$ref"], definitions), **child}
        yield (*path, key), child, in_entry
        yield from schema_properties(child, definitions, (*path, key), in_entry)
        for nested in ("items", "additionalProperties"):
            if isinstance(child.get(nested), dict):
                yield from schema_properties(child[nested], definitions, (*path, key, "*"), True)


def resolve(reference: str, definitions: dict) -> dict:
    node = {"definitions": definitions}
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    return {**resolve(node["$ref"], definitions), **node} if "$ref" in node else node


def test_every_config_key_has_a_description_and_a_default():
    """Entries of conditions, models and overrides inherit what they leave out, so they need no defaults."""
    config_schema = schema.load_schema(str(SCHEMA))
    keys = list(schema_properties(config_schema, config_schema["definitions"]))
    assert len(keys) > 60
    for path, node, in_entry in keys:
        assert node.get("description"), f"{'.'.join(path)} has no description"
        assert in_entry or "default" in node, f"{'.'.join(path)} has no default"


def test_user_data_reached_through_an_absolute_or_dotted_path_into_results_is_refused(tmp_path):
    (tmp_path / "resources").mkdir()
    for root in (str(tmp_path / "results" / "jpeg"), "resources/../results/jpeg", "./logs"):
        with pytest.raises(
            schema.ConfigError, match=r"dataset.root: .* lies inside (results|logs)/"
        ):
            validation.check_not_owned("dataset.root", root, tmp_path, OWNED_FOLDERS)
    validation.check_not_owned(
        "dataset.root", "resources/results", tmp_path, OWNED_FOLDERS
    )  # a folder merely named so


def test_plan_counts_only_image_files_of_an_image_folder(tmp_path):
    for split in ("train", "test"):
        for name in ("cat", "dog"):
            folder = tmp_path / "images" / split / name
            folder.mkdir(parents=True)
            for index in range(2):
                (folder / f"{index}.PNG").write_bytes(b"")
            (folder / "notes.txt").write_text("not an image")
    dataset = {"kind": "imagefolder", "root": "images", "num_classes": 2}
    assert folders.class_sizes(dataset, tmp_path) == {
        split: {"cat": 2, "dog": 2} for split in ("train", "test")
    }
    assert folders.split_sizes(dataset, tmp_path) == {"train": 4, "test": 4}


def test_the_class_count_is_the_data_sets_own_unless_given(tmp_path):
    cifar100 = demo_config()
    cifar100["dataset"] = {
        "kind": "cifar100",
        "root": "resources/cifar100",
    }  # not there: downloaded by a rule
    cifar100["figures"]["figure3"]["classes"] = ["apple", "worm"]
    assert validate_config(cifar100, tmp_path)["dataset"]["num_classes"] == 100
    for split in ("train", "test"):
        for name in ("cat", "dog"):
            (tmp_path / "pets" / split / name).mkdir(parents=True)
    pets = demo_config()
    pets["dataset"] = {"kind": "imagefolder", "root": "pets"}
    pets["figures"]["figure3"]["classes"] = ["cat", "dog"]
    assert validate_config(pets, tmp_path)["dataset"]["num_classes"] == 2
    assert (
        validate_config(demo_config() | {"dataset": {"kind": "synthetic"}}, tmp_path)["dataset"][
            "num_classes"
        ]
        == 10
    )


def test_a_job_without_a_shared_file_system_plans_without_the_users_files(tmp_path):
    """On Kubernetes or a cloud batch, a job re-plans the study where the data set and the checkpoints are not;
    the plan where Snakemake runs checked them, and asks for what a job could not count."""
    config = demo_config()
    config["dataset"] = {"kind": "imagefolder", "root": "resources/jpeg"}
    config["checkpoints"] = [OUTSIDE]
    config["figures"]["figure3"]["classes"] = [0, 1]
    saved("resources/released.pt", plain_state_dict())(config, tmp_path)
    with pytest.raises(
        schema.ConfigError,
        match=r"dataset.num_classes: jobs without a shared file system plan "
        r"the study without the image folder 'resources/jpeg'",
    ):
        validate_config(copy.deepcopy(config), tmp_path, shared_files=False)
    (tmp_path / "resources" / "released.pt").unlink()
    config["dataset"]["num_classes"] = 10
    job = validate_config(
        copy.deepcopy(config), tmp_path, shared_files=False, in_job=True
    )  # no file on disk
    assert job["dataset"]["num_classes"] == 10
    with pytest.raises(
        schema.ConfigError,
        match=r"checkpoints\[0\].weights: the file 'resources/released.pt' "
        "does not exist",
    ):
        validate_config(
            copy.deepcopy(config), tmp_path, shared_files=True, in_job=True
        )  # a SLURM job sees them
