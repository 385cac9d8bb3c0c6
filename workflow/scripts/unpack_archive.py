"""Unpack an image-folder archive (train/<class>/, test/<class>/) into the configured folder."""

import shutil
import tarfile
from pathlib import Path

from job import start


def with_umask_modes(member, path):
    """tarfile's safe "data" filter, leaving each file the mode the umask gives rather than the archive's."""
    return tarfile.data_filter(member, path).replace(mode=None, deep=False)


log, _ = start(snakemake)
target = Path(snakemake.output.folder)
staging = target.with_name(f".{target.name}.unpacking")
shutil.rmtree(staging, ignore_errors=True)
log(f"unpacking {snakemake.input.archive} into {target}")
with tarfile.open(snakemake.input.archive) as archive:
    archive.extractall(staging, filter=with_umask_modes)
top = [entry for entry in staging.iterdir()]
source = (
    top[0] if len(top) == 1 and top[0].is_dir() and not (staging / "train").exists() else staging
)
source.rename(target)
shutil.rmtree(staging, ignore_errors=True)
