# results/dist: Dist(f1, f2) per class and start with its null baseline (one job for the study), and the long
# and summary tables.


localrules:
    dist_tables,


rule evaluate_on_patterns:
    input:
        unpack(inputs_of("evaluate_on_patterns")),
    output:
        **outputs_of("evaluate_on_patterns"),
    log:
        "logs/evaluate_on_patterns.log",
    benchmark:
        "results/benchmarks/evaluate_on_patterns.tsv"
    conda:
        ENV
    resources:
        **gpu_job(
            cpus=2,
            mem_mb=8000,
            minutes=lambda wildcards, attempt: PLAN.evaluation_minutes(attempt),
        ),
    params:
        **params_of("evaluate_on_patterns", "pairs", "classifiers"),
    script:
        "../scripts/evaluate_on_patterns.py"


rule dist_tables:
    input:
        unpack(inputs_of("dist_tables")),
    output:
        long=outputs_of("dist_tables")["long"],
        summary=report(
            outputs_of("dist_tables")["summary"],
            caption="../report/dist_summary.rst",
            category="Tables",
            labels={"table": "Dist summary"},
        ),
        summary_parquet=outputs_of("dist_tables")["summary_parquet"],
        over_seeds=report(
            outputs_of("dist_tables")["over_seeds"],
            caption="../report/dist_over_seeds.rst",
            category="Tables",
            labels={"table": "Dist over seeds"},
        ),
    log:
        "logs/dist_tables.log",
    conda:
        ENV
    params:
        **params_of("dist_tables", "pairs", "null", "lookup", "statistics"),
    script:
        "../scripts/dist_tables.py"
