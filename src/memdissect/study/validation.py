"""A study's config checked before any job starts: one clear message per problem.

The workflow (workflow/rules/common.smk) runs three steps in order:

1. :func:`memdissect.study.schema.check_schema`: the JSON schema and its messages;
2. the workflow engine's validation, which fills in the schema's defaults (``fill_defaults``);
3. :func:`check_study`: what a schema cannot say: names that refer to conditions, networks
   or model ids of the study, and data-set folders that must exist.

:func:`check_config` runs the three and returns the study's classifiers. Pure Python without torch, like
:mod:`memdissect.study.design`.
"""

from pathlib import Path

from memdissect.data.catalogue import CLASS_COUNTS, KNOWN_CLASSES, TORCHVISION_SETS
from memdissect.data.folders import (
    check_torchvision_folder,
    class_sizes,
    image_folder_classes,
    split_sizes,
    subset_in_use,
    user_copy_exists,
)
from memdissect.io import TENSOR_FILE, ArtifactError, DataError, TensorShape, peek_torch
from memdissect.study import architectures, design
from memdissect.study.schema import (
    ConfigError,
    check_schema,
    key_path,
    listing,
    not_in_study,
)


def check_config(
    config: dict,
    schema_path,
    fill_defaults,
    owned_folders,
    workdir=".",
    shared_files=True,
    in_job=False,
) -> dict:
    """The schema, then its defaults filled into config by ``fill_defaults(config, schema_path)``, then
    the study's names: the study's classifiers (`design.expand_classifiers`), or ConfigError for the
    first problem. ``owned_folders`` are where the workflow writes and may delete: no user data there.

    shared_files: whether jobs read the working directory's files (Snakemake's --shared-fs-usage holds
    input-output); in_job: whether this is the plan of a job Snakemake started elsewhere (its remote mode).
    A job without shared files plans without the user's files (data set, archive, checkpoints): the
    plan where Snakemake runs checked them, and made sure that the job's plan needs none of them.
    """
    check_schema(config, schema_path)
    fill_defaults(config, str(schema_path))
    return check_study(config, owned_folders, workdir, shared_files, in_job)


def check_study(config: dict, owned_folders, workdir=".", shared_files=True, in_job=False) -> dict:
    """The study's classifiers; ConfigError for a name the study lacks or a data set that is not there.

    Expects the schema's defaults filled in; fills in those that are the study's own (the data set's
    classes, the pairs, the figures); data-set paths are relative to `workdir`. shared_files, in_job: as
    for check_config.
    """
    users_files_here = shared_files or not in_job
    classifiers, classes = check_networks(
        config, Path(workdir), owned_folders, users_files_here, shared_files
    )
    for identifier in config["overrides"]:
        check_name(["overrides"], identifier, list(classifiers), "a model id of this study")
    design.fill_study_defaults(config, classifiers)
    conditions = list(config["conditions"])
    networks = list(dict.fromkeys(c.network for c in classifiers.values()))
    dissection = config["dissection"]
    check_name(
        ["dissection", "reference"], dissection["reference"], networks, "a network of this study"
    )
    check_names(
        ["dissection", "compare"], dissection["compare"], networks, "a network of this study"
    )
    if isinstance(dissection.get("all_pairs"), list):  # the conditions with a full Dist matrix
        check_names(
            ["dissection", "all_pairs"],
            dissection["all_pairs"],
            conditions,
            "a condition of this study",
        )
    check_pairs(config, classifiers)
    check_reference_conditions(config, conditions)
    check_lookup_table(
        config["lookup_table"], classifiers, split_sizes(config["dataset"], workdir)["train"]
    )
    check_figures(
        config["figures"],
        conditions,
        networks,
        classifiers,
        config["dataset"]["num_classes"],
        classes,
    )
    return classifiers


def check_networks(
    config: dict, workdir: Path, owned_folders, users_files_here=True, shared_files=True
):
    """(the study's classifiers, the data set's class names or None): the model groups, the data set (its
    number of classes filled in) and the checkpoints, which must fit it; at least one network. The user's
    files are checked only where they are (`users_files_here`)."""
    conditions = list(config["conditions"])
    for index, group in enumerate(config["models"]):
        check_names(
            ["models", index, "conditions"],
            group["conditions"],
            conditions,
            "a condition of this study",
        )
        check_architecture(["models", index], group, workdir)
    for index, entry in enumerate(config["checkpoints"]):
        check_checkpoint(
            ["checkpoints", index], entry, conditions, workdir, owned_folders, users_files_here
        )
    classes = check_dataset(
        config["dataset"], workdir, owned_folders, users_files_here, shared_files
    )
    for index, entry in enumerate(config["checkpoints"] if users_files_here else []):
        check_checkpoint_file(
            ["checkpoints", index], entry, config["dataset"]["num_classes"], workdir
        )
    try:
        classifiers = design.expand_classifiers(config)
    except ValueError as error:  # a repeated model id
        raise ConfigError(str(error)) from None
    if not classifiers:
        raise ConfigError(
            "models, checkpoints: the config names no network (both are empty); valid: a model group "
            "under `models` for the study to train, or a file under `checkpoints` trained elsewhere"
        )
    return classifiers, classes


def check_pairs(config: dict, classifiers: dict) -> None:
    """Dist compares two networks: the study must have a pair (f1, f2) to dissect."""
    if design.dissection_pairs(config, classifiers):
        return
    dissection = config["dissection"]
    where = listing(
        design.in_config_order(
            config,
            [c.condition for c in classifiers.values() if c.network == dissection["reference"]],
        )
    )
    raise ConfigError(
        f"dissection.compare: no network of {dissection['compare']} shares a condition with the "
        f"reference {dissection['reference']} (trained in {where}), so there is no pair to dissect; "
        f"valid: a network in a condition of the reference, or dissection.all_pairs over a condition "
        f"of two networks or more"
    )


def check_architecture(path, entry: dict, workdir) -> None:
    """The architecture of a model group or checkpoint exists, and only memdissect's own scale by width."""
    try:
        architectures.check_architecture(entry["arch"], workdir)
    except architectures.ArchitectureError as error:
        raise ConfigError(f"{key_path(path + ['arch'])}: {error}") from None
    if not architectures.is_built_in(entry["arch"]) and entry.get("width", 1.0) != 1.0:
        raise ConfigError(
            f"{key_path(path + ['width'])}: {entry['width']} for {entry['arch']}; valid: 1.0 (only "
            f"vgg11, vgg13 and resnet32 scale by width)"
        )


def check_checkpoint(
    path, entry: dict, conditions, workdir: Path, owned_folders, users_files_here=True
) -> None:
    """An imported classifier: a condition of the study, an architecture, a weights file that exists outside
    the workflow's folders."""
    check_name(path + ["condition"], entry["condition"], conditions, "a condition of this study")
    check_architecture(path, entry, workdir)
    check_not_owned(key_path(path + ["weights"]), entry["weights"], workdir, owned_folders)
    if users_files_here and not (workdir / entry["weights"]).is_file():
        raise ConfigError(
            f"{key_path(path + ['weights'])}: the file {entry['weights']!r} does not exist; valid: "
            f"an existing state_dict or memdissect checkpoint, relative to the working directory"
        )


def check_checkpoint_file(path, entry: dict, num_classes: int, workdir: Path) -> None:
    """What a checkpoint's file says without torch (io.peek_torch): a memdissect checkpoint of this arch, width
    and classes, or a plain state_dict whose output layer has the data set's classes; its normalization."""
    try:
        stored = peek_torch(workdir / entry["weights"])
    except ArtifactError as error:
        raise ConfigError(f"{key_path(path + ['weights'])}: {error}") from None
    if isinstance(stored, dict) and "format" in stored:
        return check_memdissect_checkpoint(path, entry, stored, num_classes)
    if stored is not None:  # None: torch's legacy format, which import_classifier reads and checks
        check_output_layer(path, entry, stored, num_classes)
    given = [key for key in ("mean", "std") if key in entry]
    if architectures.is_built_in(entry["arch"]) and given:
        raise ConfigError(
            f"{key_path(path + [given[0]])}: {entry['arch']} normalizes its input itself; valid: "
            f"no mean or std for vgg11, vgg13 and resnet32"
        )
    try:
        architectures.check_normalization(
            entry["arch"], entry.get("mean"), entry.get("std"), ("`mean`", "`std`")
        )
    except architectures.ArchitectureError as error:
        raise ConfigError(f"{key_path(path)}: {error}") from None


def check_memdissect_checkpoint(path, entry: dict, stored: dict, num_classes: int) -> None:
    """A checkpoint memdissect wrote knows its architecture, width, classes and normalization."""
    settings, weights = stored.get("settings"), repr(entry["weights"])
    if not isinstance(settings, dict) or "arch" not in settings:
        raise ConfigError(
            f"{key_path(path + ['weights'])}: {weights} is a memdissect file of format "
            f"{stored['format']!r}, not a classifier checkpoint; valid: a plain state_dict or a "
            f"study's results/models/<model>/weights.pt"
        )
    made = (
        f"a memdissect checkpoint of {settings['arch']} at width {settings['width']} with "
        f"{settings['num_classes']} classes"
    )
    for key, value in (("arch", settings["arch"]), ("width", settings["width"])):
        if entry.get(key, 1.0) != value:
            raise ConfigError(
                f"{key_path(path + [key])}: {entry.get(key, 1.0)!r}, but {weights} is {made}; "
                f"valid: {value!r}"
            )
    if settings["num_classes"] != num_classes:
        raise ConfigError(
            f"{key_path(path + ['weights'])}: {weights} is {made}, but the data set has {num_classes}; "
            f"valid: a classifier of the data set's {num_classes} classes"
        )
    given = [key for key in ("mean", "std") if key in entry]
    if given:
        raise ConfigError(
            f"{key_path(path + [given[0]])}: {weights} is {made}, which knows its normalization; "
            f"valid: no mean or std"
        )


def check_output_layer(path, entry: dict, stored, num_classes: int) -> None:
    """A plain state_dict (also under "state_dict"): its last 2-D weight, the output layer's, has a row per class."""
    wrapped = isinstance(stored, dict) and isinstance(stored.get("state_dict"), dict)
    state = stored["state_dict"] if wrapped else stored
    if (
        not isinstance(state, dict)
        or not state
        or not all(isinstance(v, TensorShape) for v in state.values())
    ):
        raise ConfigError(
            f"{key_path(path + ['weights'])}: {entry['weights']!r} holds no state_dict (a mapping of "
            f"parameter names to tensors); valid: {TENSOR_FILE}, or a memdissect checkpoint"
        )
    name, shape = next(
        ((name, t.shape) for name, t in reversed(state.items()) if len(t.shape) == 2), (None, None)
    )
    if name is not None and shape[0] != num_classes:
        raise ConfigError(
            f"{key_path(path + ['weights'])}: {entry['weights']!r} holds a network of {shape[0]} "
            f"outputs (its output layer {name.removeprefix('module.')} is {shape[0]} x {shape[1]}), "
            f"not one per class of the data set; valid: a network of {num_classes} outputs"
        )


def check_reference_conditions(config: dict, conditions) -> None:
    """X_T and X_R, where the config names them, must be conditions of the study (design.reference_conditions)."""
    for role in ("true_labels", "random_labels"):
        named = config["dissection"].get(role)
        if named is not None:
            check_name(["dissection", role], named, conditions, "a condition of this study")


def check_lookup_table(lookup: dict, classifiers: dict, train_size: int) -> None:
    """A lookup table the study can build: k neighbours among the training images, and a feature space that
    is pixels or a model of the study (memdissect.analyses.lookup_table)."""
    if not lookup["enabled"]:
        return
    if (
        0 < train_size < lookup["k"]
    ):  # no image counted yet (an empty or unpacked-later folder): the data's checks say so
        raise ConfigError(
            f"lookup_table.k: {lookup['k']} is more than the {train_size} training images; valid: an "
            f"integer from 1 to {train_size}"
        )
    if lookup["features"] != design.LOOKUP_PIXELS:
        check_name(
            ["lookup_table", "features"],
            lookup["features"],
            [design.LOOKUP_PIXELS, *classifiers],
            "pixels or a model id of this study",
        )


def check_name(path, value, valid, what: str) -> None:
    if value not in valid:
        raise not_in_study(path, value, valid, what)


def check_names(path, values, valid, what: str) -> None:
    for index, value in enumerate(values):
        check_name(path + [index], value, valid, what)


def check_figures(
    figures: dict, conditions, networks, classifiers, num_classes: int, classes
) -> None:
    """Names in figures; class names of figure 3 only where the plan knows them (`classes`, else None)."""
    with_models = design.conditions_in_use(classifiers)
    for figure, spec in figures.items():
        for key in ("conditions", "ablations"):
            check_names(
                ["figures", figure, key], spec.get(key, []), conditions, "a condition of this study"
            )
            check_names(
                ["figures", figure, key],
                spec.get(key, []),
                with_models,
                "a condition with models (no model group trains in it)",
            )
    trained = [
        classifiers[model] for model in design.trained(classifiers)
    ]  # only these have a history to plot
    if (
        figures["figure1"]["network"] is not None
    ):  # None: the study trains nothing, and draws no Figure 1
        check_name(
            ["figures", "figure1", "network"],
            figures["figure1"]["network"],
            list(dict.fromkeys(c.network for c in trained)),
            "a network this study trains",
        )
    if figures["figure4"]["name"] is not None:
        names = list(dict.fromkeys(c.name for c in trained))
        check_name(
            ["figures", "figure4", "name"],
            figures["figure4"]["name"],
            names,
            "a model name this study trains",
        )
    for index, entry in enumerate(figures["figure3"]["classes"]):
        path = ["figures", "figure3", "classes", index]
        if isinstance(entry, int) and not 0 <= entry < num_classes:
            raise ConfigError(
                f"{key_path(path)}: {entry} is out of range; valid: a class index from 0 to "
                f"{num_classes - 1}, or a class name"
            )
        if isinstance(entry, str) and classes is not None and entry not in classes:
            raise not_in_study(path, entry, classes, "a class of the data set")


def check_dataset(
    dataset: dict, workdir: Path, owned_folders, users_files_here=True, shared_files=True
):
    """The data set's class names where the plan can know them (else None); ConfigError for a data
    set that is not there, a subset it cannot give, or a folder inside the workflow's own outputs.
    Where the user's files are not (`users_files_here`), only what needs none of them."""
    kind, root, archive = dataset["kind"], dataset["root"], dataset.get("archive")
    check_not_owned("dataset.root", root, workdir, owned_folders)
    if archive:
        check_not_owned("dataset.archive", archive, workdir, owned_folders)
    classes = list(KNOWN_CLASSES[kind]) if kind in KNOWN_CLASSES else None
    if not users_files_here:
        fill_num_classes(dataset, CLASS_COUNTS.get(kind))
        return classes
    if kind not in CLASS_COUNTS and not shared_files and dataset["num_classes"] is None:
        raise ConfigError(
            f"dataset.num_classes: jobs without a shared file system plan the study without the image "
            f"folder {root!r}, so they cannot count its classes; valid: the number of its class folders"
        )
    if kind == "imagefolder":
        classes = check_image_folder_dataset(root, archive, workdir)
    elif kind in TORCHVISION_SETS and user_copy_exists(dataset, workdir):
        try:
            check_torchvision_folder(kind, workdir / root)
        except DataError as error:
            raise ConfigError(f"dataset.root: {error}") from None
    fill_num_classes(dataset, CLASS_COUNTS.get(kind, len(classes) if classes else None))
    check_subset(dataset, workdir)
    return classes


def fill_num_classes(dataset: dict, count) -> None:
    """dataset.num_classes, where the config leaves it out, is the data set's count of classes (None: unknown
    before an archive is unpacked); where given, it must be that count."""
    if dataset["num_classes"] is None and count is None:
        raise ConfigError(
            f"dataset.num_classes: not known before dataset.archive {dataset['archive']!r} is "
            f"unpacked; valid: the number of class folders under its train/ (10 for CIFAR-10)"
        )
    if dataset["num_classes"] is None:
        dataset["num_classes"] = count
    elif count is not None and dataset["num_classes"] != count:
        raise ConfigError(
            f"dataset.num_classes: {dataset['num_classes']} does not match the data set; "
            f"valid: {count} (the classes of the {dataset['kind']} data set at {dataset['root']!r}), "
            f"or leave it out"
        )


def check_image_folder_dataset(root, archive, workdir: Path):
    """The classes of an image folder that is there, else None where its archive is; ConfigError where neither is."""
    if (workdir / root).is_dir():
        try:
            return image_folder_classes(workdir / root)
        except DataError as error:
            raise ConfigError(f"dataset.root: {error}") from None
    if not archive:
        raise ConfigError(
            f"dataset.root: the folder {root!r} does not exist and dataset.archive is not set; valid: "
            f"a folder holding train/<class>/ and test/<class>/ images, or set dataset.archive to a "
            f".tar.gz of such a folder (unpacked into results/data/unpacked, never into dataset.root)"
        )
    if not (workdir / archive).is_file():
        raise ConfigError(
            f"dataset.archive: the file {archive!r} does not exist (and dataset.root {root!r} does not "
            f"either); valid: an existing .tar.gz of train/<class>/ and test/<class>/ images, or a "
            f"dataset.root that exists"
        )
    return None


def check_not_owned(key: str, path, workdir: Path, owned_folders) -> None:
    """The user's data must not lie where the workflow writes: there it may be deleted."""
    resolved = (Path(workdir) / path).resolve()
    for folder in owned_folders:
        owned = (Path(workdir) / folder).resolve()
        if resolved == owned or owned in resolved.parents:
            raise ConfigError(
                f"{key}: {str(path)!r} lies inside {folder}/, which the workflow owns and may delete "
                f"or rewrite; valid: a path outside {', '.join(f'{name}/' for name in owned_folders)}, "
                f"such as resources/{Path(path).name}"
            )


def check_subset(dataset: dict, workdir: Path) -> None:
    """dataset.subset only where it applies, and never more images per class than a class has."""
    subset = subset_in_use(dataset)
    if subset is None:
        return
    if dataset["kind"] == "synthetic":
        raise ConfigError(
            "dataset.subset: the synthetic data set takes no subset; valid: no subset, or set "
            "dataset.train_size and dataset.test_size instead"
        )
    available = class_sizes(dataset, workdir)
    for split, sizes in (available or {}).items():
        wanted = subset[f"{split}_per_class"]
        smallest = min(sizes.values())
        if wanted is not None and wanted > smallest:
            small = min(sizes, key=sizes.get)
            raise ConfigError(
                f"dataset.subset.{split}_per_class: {wanted} is more than the {smallest} {split} images "
                f"of class {small!r}; valid: an integer from 1 to {smallest}"
            )
