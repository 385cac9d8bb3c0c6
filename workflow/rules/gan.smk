# results/gan: the DCGAN whose generator regularizes the pattern search, its losses and samples.


rule train_gan:
    input:
        unpack(inputs_of("train_gan")),
    output:
        model=outputs_of("train_gan")["model"],
        losses=outputs_of("train_gan")["losses"],
        samples=report(
            outputs_of("train_gan")["samples"],
            caption="../report/gan_samples.rst",
            category="DCGAN",
            labels={"figure": "DCGAN samples"},
        ),
    log:
        "logs/train_gan.log",
    benchmark:
        "results/benchmarks/train_gan.tsv"
    conda:
        ENV
    resources:
        **gpu_job(
            cpus=4,
            mem_mb=16000,
            minutes=lambda wildcards, attempt: PLAN.gan_minutes(attempt),
        ),
    params:
        **params_of("train_gan", "settings", "resume"),
    script:
        "../scripts/train_gan.py"
