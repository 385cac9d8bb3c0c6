"""results/summary.md: our accuracies, Dist ordering and Dist against noise beside the paper's."""

from job import inputs_by_role, start

from memdissect.analyses.function_paths_summary import path_section
from memdissect.analyses.learning_order_summary import learning_order_section
from memdissect.analyses.lookup_table_summary import lookup_section
from memdissect.io import atomic_path, read_parquet
from memdissect.report.summary import (
    accuracy_section,
    crosscheck_section,
    dist_section,
    noise_section,
    stage_section,
    summary_markdown,
)
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
histories = {
    (condition, spec["history_noise"][condition]): read_parquet(path, made_by=maker_of(path))
    for condition, path in inputs_by_role(snakemake, "histories").items()
}
summary = read_parquet(snakemake.input.summary, made_by=maker_of(snakemake.input.summary))
text = summary_markdown(
    [
        accuracy_section(spec["network"], histories),
        dist_section(summary, spec["reference"], spec["true_labels"], spec["random_labels"]),
        noise_section(summary, spec["reference"], spec["noise"]),
        lookup_section(
            summary,
            spec["reference"],
            spec["true_labels"],
            spec["random_labels"],
            spec["lookup_table"],
        )
        if spec["lookup_table"]
        else "",
        crosscheck_section(
            read_parquet(snakemake.input.crosscheck, made_by=maker_of(snakemake.input.crosscheck))
        ),
        # planned only where the study trains a model: a checkpoint has no history
        stage_section(
            read_parquet(snakemake.input.stages, made_by=maker_of(snakemake.input.stages))
        )
        if "stages" in snakemake.input.keys()
        else "",
        # planned only where the study has them: models on corrupted labels, model groups with two seeds or more
        learning_order_section(
            read_parquet(
                snakemake.input.learning_order, made_by=maker_of(snakemake.input.learning_order)
            ),
            spec["learning_order_thresholds"],
        )
        if "learning_order" in snakemake.input.keys()
        else "",
        path_section(
            read_parquet(snakemake.input.paths, made_by=maker_of(snakemake.input.paths)),
            read_parquet(snakemake.input.fit_epochs, made_by=maker_of(snakemake.input.fit_epochs)),
            spec["true_labels"],
            spec["random_labels"],
        )
        if "paths" in snakemake.input.keys()
        else "",
    ]
)
with atomic_path(snakemake.output.summary) as tmp:
    tmp.write_text(text)
