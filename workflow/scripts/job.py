"""What every rule script does first: log to the rule's log, cap threads, pick the device."""

import logging
import os
import sys


def start(snakemake, needs_device=False):
    """Returns (log, device); log writes one line per message to the rule's log file."""
    # GPUs numbered as nvidia-smi numbers them, not fastest first; CUDA reads this once, when it starts
    os.environ.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
    open(snakemake.log[0], "w").close()
    logging.basicConfig(  # appending, so that lines another process adds (memdissect.training.sharing.together) are kept
        filename=snakemake.log[0],
        filemode="a",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        force=True,
    )
    logger = logging.getLogger(snakemake.rule)

    def log_then_raise(kind, error, trace):
        if kind.__module__.startswith(
            "memdissect."
        ):  # raised on purpose: the message names the file and the fix
            logger.error("%s: %s", kind.__name__, error)
            print(f"{kind.__name__}: {error}", file=sys.stderr)
            return
        logger.error("%s: %s", kind.__name__, error, exc_info=(kind, error, trace))
        sys.__excepthook__(kind, error, trace)

    sys.excepthook = log_then_raise
    device = None
    if "torch" in sys.modules or needs_device:
        import torch

        torch.set_num_threads(max(1, snakemake.threads))
    if needs_device:
        from memdissect.training.device import gpu_allocated_by_scheduler, resolve_device

        allocated = gpu_allocated_by_scheduler(snakemake.resources.get("gpu", 0))
        jobs_per_gpu = snakemake.config.get("sharing", {}).get("models", 1)
        device = resolve_device(
            snakemake.config.get("device", "auto"),
            gpu_allocated=allocated,
            jobs_per_gpu=jobs_per_gpu,
        )
        logger.info(
            "device %s, %d CPU threads, CUDA_VISIBLE_DEVICES=%s, SLURM_JOB_ID=%s",
            device,
            torch.get_num_threads(),
            os.environ.get("CUDA_VISIBLE_DEVICES"),
            os.environ.get("SLURM_JOB_ID"),
        )
    return logger.info, device


def inputs_by_role(snakemake, role: str) -> dict:
    """The job's files of one role by name (a model id, condition or f1), as the plan named them."""
    from memdissect.study.plan import inputs_by_role as by_role

    return by_role({name: snakemake.input[name] for name in snakemake.input.keys()}, role)
