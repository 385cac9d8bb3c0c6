from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/classifiers.smk"
include: "workflow/rules/gan.smk"
include: "workflow/rules/patterns.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/analysis.smk"


rule all:
    default_target: True
    input:
        get_final_output(),
