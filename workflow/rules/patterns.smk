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
        settings=config["patterns"],
        classifier=get_classifier_settings,
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
        sources=get_evaluation_sources,
        classifier=get_f2_settings,
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
        pairs=get_pair_descriptions,
        null=get_null_descriptions,
        statistics=config["statistics"],
    log:
        "logs/dist_tables.log",
    conda:
        ENV
    script:
        "../scripts/dist_tables.py"
