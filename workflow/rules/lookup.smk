# results/lookup: each trained f1's patterns through the k-NN lookup table of its condition (one job for the
# study), an f2 beside the networks in the Dist tables; planned only where config lookup_table is enabled.


rule evaluate_lookup_tables:
    input:
        unpack(inputs_of("evaluate_lookup_tables")),
    output:
        **outputs_of("evaluate_lookup_tables"),
    log:
        "logs/evaluate_lookup_tables.log",
    benchmark:
        "results/benchmarks/evaluate_lookup_tables.tsv"
    conda:
        ENV
    resources:
        **gpu_job(
            cpus=2,
            mem_mb=8000,
            minutes=lambda wildcards, attempt: PLAN.lookup_minutes(attempt),
        ),
    params:
        **params_of("evaluate_lookup_tables", "conditions", "table", "features"),
    script:
        "../scripts/evaluate_lookup_tables.py"
