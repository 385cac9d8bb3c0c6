localrules:
    dist_tables,


rule synthesize_patterns:
    input:
        unpack(get_pattern_inputs),
    output:
        "results/patterns/{model}.pt",
    params:
        settings=config["patterns"],
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
        unpack(get_pair_inputs),
    output:
        "results/dist/pairs/{f1}/{f2}.parquet",
    log:
        "logs/evaluate_on_patterns/{f1}/{f2}.log",
    conda:
        ENV
    script:
        "../scripts/evaluate_on_patterns.py"


rule dist_tables:
    input:
        get_pair_tables,
    output:
        long="results/dist/dist_long.parquet",
        summary=report(
            "results/dist/dist_summary.csv",
            caption="../report/dist_summary.rst",
            category="Tables",
            labels={"table": "Dist summary"},
        ),
        summary_parquet="results/dist/dist_summary.parquet",
    params:
        pairs=get_pair_descriptions,
    log:
        "logs/dist_tables.log",
    conda:
        ENV
    script:
        "../scripts/dist_tables.py"
