# results/models/{model}: one classifier per architecture, seed and condition, with its history and test outputs.


rule train_classifier:
    input:
        unpack(inputs_of("train_classifier")),
    output:
        **outputs_of("train_classifier", model="{model}"),
    params:
        **params_of("train_classifier", "settings", "resume"),
    resources:
        **gpu_job(cpus=4, mem_mb=16000, minutes=lambda wildcards, attempt: PLAN.training_minutes(wildcards.model, attempt)),
    log:
        "logs/train_classifier/{model}.log",
    benchmark:
        "results/benchmarks/train_classifier/{model}.tsv"
    conda:
        ENV
    script:
        "../scripts/train_classifier.py"
