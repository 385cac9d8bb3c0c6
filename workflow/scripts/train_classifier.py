"""Train one classifier: the final checkpoint, the per-epoch history and its outputs on the test set."""

from pathlib import Path

import torch
from job import start

from memdissect.crosscheck import test_outputs
from memdissect.data import load_split
from memdissect.io import read_parquet, save_torch, write_parquet
from memdissect.labels import check_label_table
from memdissect.settings import ClassifierSettings
from memdissect.train import save_classifier, train_classifier

log, device = start(snakemake, needs_device=True)
settings = ClassifierSettings.from_dict(snakemake.params.settings)
log(f"settings {settings}")
train, test = (load_split(snakemake.input[split], made_by="prepare_dataset") for split in ("train", "test"))
label_table = read_parquet(snakemake.input.labels, made_by="make_labels")
check_label_table(label_table, len(train["images"]), snakemake.input.labels, made_by="make_labels")
labels = torch.from_numpy(label_table["label"].to_numpy().copy())
resume_path = Path(snakemake.params.resume)
model, history = train_classifier(settings, train["images"], labels, test["images"], test["labels"], device,
                                  resume_path=resume_path, log=log)
save_classifier(model, settings, train["classes"], snakemake.output.weights)
write_parquet(history, snakemake.output.history)
save_torch(test_outputs(model, test, device), snakemake.output.test_outputs)
resume_path.unlink(missing_ok=True)
