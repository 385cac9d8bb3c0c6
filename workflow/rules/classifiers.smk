rule train_classifier:
    input:
        unpack(get_training_inputs),
    output:
        weights="results/models/{model}/weights.pt",
        history="results/models/{model}/history.parquet",
        test_outputs="results/models/{model}/test_outputs.pt",
    params:
        settings=canonical(get_classifier_settings),
    resources:
        gpu=1,  # one GPU per job (SLURM: --gpus; one machine: snakemake --resources gpu=K)
        cpus_per_gpu=4,
        mem_mb=16000,
        runtime=get_training_runtime,
    log:
        "logs/train_classifier/{model}.log",
    benchmark:
        "results/benchmarks/train_classifier/{model}.tsv"
    conda:
        ENV
    script:
        "../scripts/train_classifier.py"
