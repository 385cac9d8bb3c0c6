rule train_gan:
    input:
        train=rules.prepare_dataset.output.train,
        architecture=str(SOURCE_DIR / "memdissect" / "models" / "dcgan.py"),
    output:
        model="results/gan/dcgan.pt",
        losses="results/gan/losses.parquet",
        samples=report(
            "results/gan/samples.png",
            caption="../report/gan_samples.rst",
            category="DCGAN",
            labels={"figure": "DCGAN samples"},
        ),
    params:
        settings=canonical(config["gan"]),
    resources:
        gpu=1,  # one GPU per job (SLURM: --gpus; one machine: snakemake --resources gpu=K)
        cpus_per_gpu=4,
        mem_mb=16000,
        runtime=get_gan_runtime,
    log:
        "logs/train_gan.log",
    benchmark:
        "results/benchmarks/train_gan.tsv"
    conda:
        ENV
    script:
        "../scripts/train_gan.py"
