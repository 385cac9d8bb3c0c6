# results/patterns: the patterns x* of each reference classifier f1, their diagnostics and a summary of those.


localrules:
    diagnostics_summary,


rule synthesize_patterns:
    input:
        unpack(inputs_of("synthesize_patterns")),
    output:
        **outputs_of("synthesize_patterns", model="{model}"),
    log:
        "logs/synthesize_patterns/{model}.log",
    benchmark:
        "results/benchmarks/synthesize_patterns/{model}.tsv"
    conda:
        ENV
    resources:
        **gpu_job(
            cpus=4,
            mem_mb=16000,
            minutes=lambda wildcards, attempt: PLAN.pattern_minutes(attempt),
        ),
    params:
        **params_of("synthesize_patterns", "settings", "classifier"),
    script:
        "../scripts/synthesize_patterns.py"


rule diagnostics_summary:
    input:
        unpack(inputs_of("diagnostics_summary")),
    output:
        summary=report(
            outputs_of("diagnostics_summary")["summary"],
            caption="../report/diagnostics.rst",
            category="Tables",
            labels={"table": "Pattern diagnostics"},
        ),
    log:
        "logs/diagnostics_summary.log",
    conda:
        ENV
    script:
        "../scripts/diagnostics_summary.py"
