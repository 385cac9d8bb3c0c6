localrules:
    crosscheck_table,
    stage_table,
    diagnostics_summary,
    dist_matrix_figure,
    crosscheck_figure,
    summary_markdown,
    study_config,


rule crosscheck_table:
    input:
        unpack(get_crosscheck_inputs),
    output:
        parquet="results/crosscheck/crosscheck.parquet",
        csv=report(
            "results/crosscheck/crosscheck.csv",
            caption="../report/crosscheck.rst",
            category="Tables",
            labels={"table": "Cross-checks on test images"},
        ),
    params:
        pairs=canonical(get_pair_descriptions),
    log:
        "logs/crosscheck_table.log",
    conda:
        ENV
    script:
        "../scripts/crosscheck_table.py"


rule stage_table:
    input:
        histories=get_all_histories(),
    output:
        parquet="results/stages/stages.parquet",
        csv=report(
            "results/stages/stages.csv",
            caption="../report/stages.rst",
            category="Tables",
            labels={"table": "Hunting stage"},
        ),
    params:
        models=canonical(list(CLASSIFIERS)),
        num_classes=config["dataset"]["num_classes"],
    log:
        "logs/stage_table.log",
    conda:
        ENV
    script:
        "../scripts/stage_table.py"


rule diagnostics_summary:
    input:
        diagnostics=get_diagnostics_tables,
    output:
        report(
            "results/patterns/diagnostics_summary.csv",
            caption="../report/diagnostics.rst",
            category="Tables",
            labels={"table": "Pattern diagnostics"},
        ),
    params:
        models=canonical(PATTERN_SOURCES),
    log:
        "logs/diagnostics_summary.log",
    conda:
        ENV
    script:
        "../scripts/diagnostics_summary.py"


rule dist_matrix_figure:
    input:
        summary=rules.dist_tables.output.summary_parquet,
    output:
        pdf="results/figures/dist_matrix_{condition}.pdf",
        png=report(
            "results/figures/dist_matrix_{condition}.png",
            caption="../report/dist_matrix.rst",
            category="Figures",
            labels={"figure": "Dist matrix", "condition": "{condition}"},
        ),
    log:
        "logs/figures/dist_matrix_{condition}.log",
    conda:
        ENV
    script:
        "../scripts/dist_matrix_figure.py"


rule crosscheck_figure:
    input:
        crosscheck=rules.crosscheck_table.output.parquet,
        summary=rules.dist_tables.output.summary_parquet,
    output:
        pdf="results/figures/crosscheck.pdf",
        png=report(
            "results/figures/crosscheck.png",
            caption="../report/crosscheck_figure.rst",
            category="Figures",
            labels={"figure": "Cross-checks"},
        ),
    params:
        spec=canonical(get_figure2_params),
    log:
        "logs/figures/crosscheck.log",
    conda:
        ENV
    script:
        "../scripts/crosscheck_figure.py"


rule summary_markdown:
    input:
        unpack(get_summary_inputs),
    output:
        report(
            "results/summary.md",
            caption="../report/summary.rst",
            category="Summary",
            labels={"table": "Ours beside the paper"},
        ),
    params:
        spec=canonical(get_summary_params),
    log:
        "logs/summary_markdown.log",
    conda:
        ENV
    script:
        "../scripts/summary_markdown.py"


rule study_config:
    output:
        report(
            "results/study_config.yaml",
            caption="../report/study_config.rst",
            category="Configuration",
            labels={"file": "config"},
        ),
    params:
        config=study.without_how_settings(config),
    log:
        "logs/study_config.log",
    conda:
        ENV
    script:
        "../scripts/study_config.py"
