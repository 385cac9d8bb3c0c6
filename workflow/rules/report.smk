# results/summary.md and results/study_config.yaml: ours beside the paper, and the config as run.


localrules:
    summary_markdown,
    study_config,


rule summary_markdown:
    input:
        unpack(inputs_of("summary_markdown")),
    output:
        summary=report(
            outputs_of("summary_markdown")["summary"],
            caption="../report/summary.rst",
            category="Summary",
            labels={"table": "Ours beside the paper"},
        ),
    log:
        "logs/summary_markdown.log",
    conda:
        ENV
    params:
        **params_of("summary_markdown", "spec"),
    script:
        "../scripts/summary_markdown.py"


rule study_config:
    output:
        config=report(
            outputs_of("study_config")["config"],
            caption="../report/study_config.rst",
            category="Configuration",
            labels={"file": "config"},
        ),
    log:
        "logs/study_config.log",
    conda:
        ENV
    params:
        **params_of("study_config", "config"),
    script:
        "../scripts/study_config.py"
