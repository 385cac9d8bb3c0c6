"""Download torchvision's CIFAR10 into the workflow's own folder (a local rule: compute nodes may be offline)."""

from pathlib import Path

from job import start

from memdissect.data import download_cifar10

log, _ = start(snakemake)
root = Path(snakemake.output.folder).parent
log(f"downloading CIFAR-10 into {root}")
download_cifar10(root)
