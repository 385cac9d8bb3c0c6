# results/data and results/labels: the data set as uint8 tensors, and one label set per noise level and seed.
# The user's data (dataset.root, dataset.archive) is only ever an input. What the workflow
# fetches itself, it keeps under results/data/: only that may Snakemake delete or redo.


localrules:
    download_dataset,
    unpack_archive,
    prepare_dataset,
    make_labels,


# torchvision's copy of the configured data set (cifar10, cifar100, svhn, mnist, fashionmnist),
# planned only when dataset.root holds none (get_dataset_source).
rule download_dataset:
    output:
        folder=directory(plan.downloaded_folder(config["dataset"]["kind"])),
    log:
        "logs/download_dataset.log",
    conda:
        ENV
    params:
        kind=config["dataset"]["kind"],
    script:
        "../scripts/download_dataset.py"


rule unpack_archive:
    input:
        archive=get_dataset_archive,
    output:
        folder=directory(plan.UNPACKED_ARCHIVE),
    log:
        "logs/unpack_archive.log",
    conda:
        ENV
    script:
        "../scripts/unpack_archive.py"


rule prepare_dataset:
    input:
        unpack(get_dataset_source),
    output:
        **outputs_of("prepare_dataset"),
    log:
        "logs/prepare_dataset.log",
    conda:
        ENV
    params:
        **params_of("prepare_dataset", "dataset"),
    script:
        "../scripts/prepare_dataset.py"


rule make_labels:
    input:
        unpack(inputs_of("make_labels")),
    output:
        **outputs_of("make_labels", label_set="{label_set}"),
    log:
        "logs/make_labels/{label_set}.log",
    conda:
        ENV
    params:
        **params_of("make_labels", "label_set"),
    script:
        "../scripts/make_labels.py"
