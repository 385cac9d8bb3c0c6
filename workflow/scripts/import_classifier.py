"""Read a classifier trained elsewhere into memdissect's checkpoint, and its outputs on the test set; the
user's file is only read."""

from job import start

from memdissect.data.tensors import load_split
from memdissect.io import save_torch
from memdissect.models import count_parameters
from memdissect.study.plan import maker_of
from memdissect.study.settings import ClassifierSettings
from memdissect.training.imported import import_classifier
from memdissect.training.train import save_classifier, test_outputs

log, device = start(snakemake, needs_device=True)
settings = ClassifierSettings.from_dict(snakemake.params.settings)
test = load_split(snakemake.input.test, made_by=maker_of(snakemake.input.test))
model = import_classifier(snakemake.input.checkpoint, settings, snakemake.params.normalization)
log(
    f"imported {snakemake.input.checkpoint} as {settings.arch} with {count_parameters(model)} parameters, "
    f"normalization {snakemake.params.normalization}"
)
save_classifier(model, settings, test["classes"], snakemake.output.weights)
save_torch(test_outputs(model.to(device), test, device), snakemake.output.test_outputs)
