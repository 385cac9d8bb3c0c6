"""Evaluate every f2 on the patterns of each f1 it is paired with, and each f1's patterns through an
untrained network of its architecture, width and classes: KL, reverse KL, JS and the relabeled reference
(KL against f2 with its classes cyclically relabeled) per (class, start), in one long table."""

from job import inputs_by_role, start

from memdissect.dissection.evaluation import evaluation_table
from memdissect.dissection.patterns import read_pattern_file, without_starting_images
from memdissect.io import write_parquet
from memdissect.study.plan import maker_of
from memdissect.study.settings import ClassifierSettings
from memdissect.training.train import read_classifier_checkpoint

log, device = start(snakemake, needs_device=True)
settings = {
    model: ClassifierSettings.from_dict(values)
    for model, values in snakemake.params.classifiers.items()
}
weights = inputs_by_role(snakemake, "classifiers")


def load_f2(f2):
    model, _, _ = read_classifier_checkpoint(
        weights[f2],
        device,
        expected_settings=settings[f2],
        made_by=maker_of(weights[f2], snakemake.config),
    )
    return model


patterns = {
    f1: without_starting_images(read_pattern_file(path, made_by=maker_of(path)))
    for f1, path in inputs_by_role(snakemake, "patterns").items()
}
# chunk_size changes how, not what: it comes from the config, never from the params
chunk_size = snakemake.config["patterns"]["chunk_size"]
table = evaluation_table(
    patterns, snakemake.params.pairs, load_f2, settings, device, chunk_size, log
)
write_parquet(table, snakemake.output.table)
