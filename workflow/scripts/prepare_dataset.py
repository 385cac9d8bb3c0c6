"""Turn the configured data set into uint8 tensors, once: train.pt and test.pt."""

import pandas as pd
from job import start

from memdissect.data.tensors import prepare_dataset, root_of, save_split
from memdissect.io import write_parquet

log, _ = start(snakemake)
settings = dict(snakemake.params.dataset)
if "source" in snakemake.input.keys():
    settings["root"] = root_of(settings["kind"], snakemake.input.source)
splits = prepare_dataset(**settings)
for name, split in splits.items():
    log(f"{name}: {tuple(split['images'].shape)} images, {len(split['classes'])} classes")
    save_split(split, snakemake.output[name])
write_parquet(
    pd.DataFrame({"label": splits["train"]["labels"].numpy()}), snakemake.output.true_labels
)
