"""Turn the configured data set into uint8 tensors, once: train.pt and test.pt."""

from pathlib import Path

from job import start

import pandas as pd

from memdissect.data import prepare_dataset, save_split
from memdissect.io import write_parquet

log, _ = start(snakemake)
settings = dict(snakemake.params.dataset)
if "source" in snakemake.input.keys():
    source = Path(snakemake.input.source)
    settings["root"] = source.parent if settings["kind"] == "cifar10" else source
splits = prepare_dataset(**settings)
for name, split in splits.items():
    log(f"{name}: {tuple(split['images'].shape)} images, {len(split['classes'])} classes")
    save_split(split, snakemake.output[name])
write_parquet(pd.DataFrame({"label": splits["train"]["labels"].numpy()}), snakemake.output.true_labels)
