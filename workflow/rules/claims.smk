# results/learning_order, results/paths: the paper's other claims, from the training jobs' histories and probe
# predictions. Learn, then memorize: a table of every model trained on corrupted labels and a figure per noise
# level. Paths in function space: the seeds of each model group compared, epoch by epoch, and a figure per name.


localrules:
    learning_order_table,
    learning_order_figure,
    path_tables,
    path_figure,


rule learning_order_table:
    input:
        unpack(inputs_of("learning_order_table")),
    output:
        parquet=outputs_of("learning_order_table")["parquet"],
        csv=report(
            outputs_of("learning_order_table")["csv"],
            caption="../report/learning_order.rst",
            category="Learn, then memorize",
            labels={"table": "Learning order"},
        ),
    log:
        "logs/learning_order_table.log",
    conda:
        ENV
    params:
        **params_of("learning_order_table", "noise", "thresholds"),
    script:
        "../scripts/learning_order_table.py"


rule learning_order_figure:
    input:
        unpack(inputs_of("learning_order_figure")),
    output:
        pdf=outputs_of("learning_order_figure", noise="{noise}")["pdf"],
        png=report(
            outputs_of("learning_order_figure", noise="{noise}")["png"],
            caption="../report/learning_order_figure.rst",
            category="Learn, then memorize",
            labels={"figure": "learning order", "p": "{noise}"},
        ),
    log:
        "logs/learning_order_figure/p{noise}.log",
    wildcard_constraints:
        noise=plan.id_pattern(PLAN.learning_order_levels()),
    conda:
        ENV
    params:
        **params_of("learning_order_figure", "spec"),
    script:
        "../scripts/learning_order_figure.py"


rule path_tables:
    input:
        unpack(inputs_of("path_tables")),
    output:
        by_epoch=outputs_of("path_tables")["by_epoch"],
        by_epoch_csv=outputs_of("path_tables")["by_epoch_csv"],
        overall=outputs_of("path_tables")["overall"],
        overall_csv=report(
            outputs_of("path_tables")["overall_csv"],
            caption="../report/paths.rst",
            category="Paths in function space",
            labels={"table": "Paths between seeds"},
        ),
        fit_epochs=outputs_of("path_tables")["fit_epochs"],
        fit_epochs_csv=report(
            outputs_of("path_tables")["fit_epochs_csv"],
            caption="../report/fit_epochs.rst",
            category="Paths in function space",
            labels={"table": "Fit epochs over seeds"},
        ),
    log:
        "logs/path_tables.log",
    conda:
        ENV
    params:
        **params_of("path_tables", "groups", "statistics"),
    script:
        "../scripts/path_tables.py"


rule path_figure:
    input:
        unpack(inputs_of("path_figure")),
    output:
        pdf=outputs_of("path_figure", name="{name}")["pdf"],
        png=report(
            outputs_of("path_figure", name="{name}")["png"],
            caption="../report/paths_figure.rst",
            category="Paths in function space",
            labels={"figure": "paths", "model": "{name}"},
        ),
    log:
        "logs/path_figure/{name}.log",
    wildcard_constraints:
        name=plan.id_pattern(PLAN.path_names()),
    conda:
        ENV
    params:
        **params_of("path_figure", "spec"),
    script:
        "../scripts/path_figure.py"
