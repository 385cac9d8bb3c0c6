localrules:
    dist_tables,


rule synthesize_patterns:
    input:
        unpack(get_pattern_inputs),
    output:
        patterns="results/patterns/{model}.pt",
        diagnostics="results/patterns/diagnostics/{model}.parquet",
        null="results/dist/null/{model}.parquet",
    params:
        settings=pattern_settings(),
        classifier=canonical(get_classifier_settings),
    resources:
        gpu=1,  # one GPU per job (SLURM: --gpus; one machine: snakemake --resources gpu=K)
        cpus_per_gpu=4,
        mem_mb=16000,
        runtime=get_pattern_runtime,
    log:
        "logs/synthesize_patterns/{model}.log",
    benchmark:
        "results/benchmarks/synthesize_patterns/{model}.tsv"
    conda:
        ENV
    script:
        "../scripts/synthesize_patterns.py"


rule evaluate_on_patterns:
    input:
        unpack(get_evaluation_inputs),
    output:
        "results/dist/by_f2/{f2}.parquet",
    params:
        sources=canonical(get_evaluation_sources),
        classifier=canonical(get_f2_settings),
    resources:
        gpu=1,  # one GPU per job (SLURM: --gpus; one machine: snakemake --resources gpu=K)
        cpus_per_gpu=2,
        mem_mb=8000,
        runtime=get_evaluation_runtime,
    log:
        "logs/evaluate_on_patterns/{f2}.log",
    conda:
        ENV
    script:
        "../scripts/evaluate_on_patterns.py"


rule dist_tables:
    input:
        pairs=get_evaluation_tables,
        null=get_null_tables,
    output:
        long="results/dist/dist_long.parquet",
        summary=report(
            "results/dist/dist_summary.csv",
            caption="../report/dist_summary.rst",
            category="Tables",
            labels={"table": "Dist summary"},
        ),
        summary_parquet="results/dist/dist_summary.parquet",
        over_seeds=report(
            "results/dist/dist_over_seeds.csv",
            caption="../report/dist_over_seeds.rst",
            category="Tables",
            labels={"table": "Dist over seeds"},
        ),
    params:
        pairs=canonical(get_pair_descriptions),
        null=canonical(get_null_descriptions),
        statistics=canonical(config["statistics"]),
    log:
        "logs/dist_tables.log",
    conda:
        ENV
    script:
        "../scripts/dist_tables.py"
