"""Train one classifier: the final checkpoint, the per-epoch history and its outputs on the test set. On a
GPU, in one process with the other training jobs that run there at the same time (memdissect.training.sharing.together)."""

from pathlib import Path

from job import start

from memdissect.study.settings import ClassifierSettings
from memdissect.training.sharing.together import ClassifierJob, Options, Sharing, train_job

log, device = start(snakemake, needs_device=True)
log(f"settings {ClassifierSettings.from_dict(snakemake.params.settings)}")
absolute = {name: str(Path(path).resolve()) for name, path in snakemake.output.items()}
job = ClassifierJob(
    model=snakemake.wildcards.model,
    settings=snakemake.params.settings,
    labels=str(Path(snakemake.input.labels).resolve()),
    outputs=absolute,
    resume=str(Path(snakemake.params.resume).resolve()),
    log=str(Path(snakemake.log[0]).resolve()),
    probes=snakemake.params.probes,
)
# sharing, cuda_graphs and resume_every_seconds change how, not what: from the config, never from the params
options = Options(snakemake.config["cuda_graphs"], snakemake.config["resume_every_seconds"])
train_job(
    job,
    {split: snakemake.input[split] for split in ("train", "test")},
    device,
    Sharing(**snakemake.config["sharing"]),
    options,
    log,
)
