from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


# The study plan, then one rule file per stage of results/, in the order of the study.
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"  # results/data, results/labels
include: "workflow/rules/classifiers.smk"  # results/models
include: "workflow/rules/gan.smk"  # results/gan
include: "workflow/rules/patterns.smk"  # results/patterns
include: "workflow/rules/lookup.smk"  # results/lookup
include: "workflow/rules/dist.smk"  # results/dist
include: "workflow/rules/analyses.smk"  # results/crosscheck, results/stages
include: "workflow/rules/claims.smk"  # results/learning_order, results/paths
include: "workflow/rules/figures.smk"  # results/figures
include: "workflow/rules/report.smk"  # results/summary.md, results/study_config.yaml


rule all:
    default_target: True
    input:
        PLAN.final_outputs(),
