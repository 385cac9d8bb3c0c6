"""The study's configuration as run, defaults filled in, for the report."""

import yaml
from job import start

from memdissect.io import atomic_path

log, _ = start(snakemake)
with atomic_path(snakemake.output.config) as tmp:
    tmp.write_text(yaml.safe_dump(dict(snakemake.params.config), sort_keys=False))
