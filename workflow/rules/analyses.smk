# results/crosscheck, results/stages: the analyses beyond the paper on the test images and the training histories.


localrules:
    crosscheck_table,
    stage_table,


rule crosscheck_table:
    input:
        unpack(inputs_of("crosscheck_table")),
    output:
        parquet=outputs_of("crosscheck_table")["parquet"],
        csv=report(
            outputs_of("crosscheck_table")["csv"],
            caption="../report/crosscheck.rst",
            category="Tables",
            labels={"table": "Cross-checks on test images"},
        ),
    log:
        "logs/crosscheck_table.log",
    conda:
        ENV
    params:
        **params_of("crosscheck_table", "pairs"),
    script:
        "../scripts/crosscheck_table.py"


rule stage_table:
    input:
        unpack(inputs_of("stage_table")),
    output:
        parquet=outputs_of("stage_table")["parquet"],
        csv=report(
            outputs_of("stage_table")["csv"],
            caption="../report/stages.rst",
            category="Tables",
            labels={"table": "Hunting stage"},
        ),
    log:
        "logs/stage_table.log",
    conda:
        ENV
    params:
        **params_of("stage_table", "num_classes"),
    script:
        "../scripts/stage_table.py"
