# results/models/{model}: one classifier per architecture, seed and condition, with its history and test
# outputs; or one trained elsewhere (config `checkpoints`), read from the user's file where it lies (a local
# rule, as data preparation: with any executor, with or without a shared file system).


localrules:
    import_classifier,


rule train_classifier:
    input:
        unpack(inputs_of("train_classifier")),
    output:
        **outputs_of("train_classifier", model="{model}"),
    log:
        plan.classifier_log_path("{model}"),
    benchmark:
        "results/benchmarks/train_classifier/{model}.tsv"
    wildcard_constraints:
        model=plan.id_pattern(PLAN.trained),
    conda:
        ENV
    resources:
        **gpu_job(
            cpus=4,
            mem_mb=16000,
            minutes=lambda wildcards, attempt: PLAN.training_minutes(
                wildcards.model, attempt
            ),
        ),
    params:
        **params_of("train_classifier", "settings", "resume", "probes"),
    script:
        "../scripts/train_classifier.py"


rule import_classifier:
    input:
        unpack(inputs_of("import_classifier")),
    output:
        **outputs_of("import_classifier", model="{model}"),
    log:
        "logs/import_classifier/{model}.log",
    wildcard_constraints:
        model=plan.id_pattern(PLAN.imported),
    conda:
        ENV
    resources:
        mem_mb=8000,
        runtime=10,
    params:
        **params_of("import_classifier", "settings", "normalization"),
    script:
        "../scripts/import_classifier.py"
