"""Download torchvision's copy of the data set into the workflow's own folder (a local rule: compute nodes may be offline)."""

from job import start

from memdissect.data.tensors import download_torchvision_set, root_of

log, _ = start(snakemake)
kind = snakemake.params.kind
root = root_of(kind, snakemake.output.folder)
log(f"downloading {kind} into {root}")
download_torchvision_set(kind, root)
