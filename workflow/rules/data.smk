localrules:
    download_cifar10,
    unpack_archive,
    prepare_dataset,
    make_labels,


# The user's data (dataset.root, dataset.archive) is only ever an input. What the workflow
# fetches itself, it keeps under results/data/: only that may Snakemake delete or redo.


rule download_cifar10:
    output:
        directory("results/data/download/cifar-10-batches-py"),
    log:
        "logs/download_cifar10.log",
    conda:
        ENV
    script:
        "../scripts/download_cifar10.py"


rule unpack_archive:
    input:
        archive=get_dataset_archive,
    output:
        directory("results/data/unpacked"),
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
        train="results/data/train.pt",
        test="results/data/test.pt",
        true_labels="results/data/train_labels.parquet",
    params:
        dataset=canonical(get_dataset_params),
    log:
        "logs/prepare_dataset.log",
    conda:
        ENV
    script:
        "../scripts/prepare_dataset.py"


rule make_labels:
    input:
        true_labels=rules.prepare_dataset.output.true_labels,
    output:
        "results/labels/{label_set}.parquet",
    params:
        label_set=canonical(get_label_set_params),
    log:
        "logs/make_labels/{label_set}.log",
    conda:
        ENV
    script:
        "../scripts/make_labels.py"
