"""Each trained f1's patterns through the k-NN lookup table of its condition's training images and labels (in
pixels or a fixed model's features): KL, reverse KL, JS and the relabeled reference per (class, start), in the
long shape of the networks' evaluations, with f2 = "knn"."""

import torch
from job import inputs_by_role, start

from memdissect.analyses.lookup_table import build_lookup_table, lookup_table_evaluations
from memdissect.data.labels import check_label_table
from memdissect.data.tensors import load_split
from memdissect.dissection.patterns import read_pattern_file, without_starting_images
from memdissect.io import read_parquet, write_parquet
from memdissect.study.plan import maker_of
from memdissect.study.settings import ClassifierSettings
from memdissect.training.train import read_classifier_checkpoint

log, device = start(snakemake, needs_device=True)
images = load_split(snakemake.input.train, made_by=maker_of(snakemake.input.train))[
    "images"
]  # N x 3 x 32 x 32, uint8
table, features = snakemake.params.table, snakemake.params.features
feature_network = None
if features:  # a fixed model's penultimate features, the same for every condition's table
    feature_network, _, _ = read_classifier_checkpoint(
        snakemake.input.features,
        device,
        expected_settings=ClassifierSettings.from_dict(features["settings"]),
        made_by=maker_of(snakemake.input.features, snakemake.config),
    )
label_files = inputs_by_role(snakemake, "labels")


def build_table(condition):
    labels = read_parquet(label_files[condition], made_by=maker_of(label_files[condition]))
    check_label_table(
        labels, len(images), label_files[condition], made_by=maker_of(label_files[condition])
    )
    return build_lookup_table(
        images,
        torch.tensor(labels["label"].to_numpy()),
        table["num_classes"],
        table["k"],
        table["smoothing"],
        feature_network,
        device,
    )


patterns = {
    f1: without_starting_images(read_pattern_file(path, made_by=maker_of(path)))
    for f1, path in inputs_by_role(snakemake, "patterns").items()
}
# chunk_size changes how, not what: it comes from the config, never from the params
chunk_size = snakemake.config["patterns"]["chunk_size"]
evaluations = lookup_table_evaluations(
    patterns, snakemake.params.conditions, build_table, device, chunk_size, log
)
write_parquet(evaluations, snakemake.output.table)
