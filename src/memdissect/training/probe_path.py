"""What training records of its path in function space: its log-probabilities on a fixed probe set after
each epoch (memdissect.analyses.function_paths compares the paths).

The probe set is a fixed draw of training and test images, the same for every model of a study
(`probe_indices`: a pure function of the split sizes, the size and a seed). After each epoch a run records
its log-probabilities there (`ProbePath`), in eval mode and at the training's precision, stored as float16:
E x N x C values of 2 bytes per split. The paper's 100 epochs on 1000 + 1000 probes of 10 classes are
100 x 2000 x 10 x 2 B = 4,000,000 B (3.8 MiB) per model; CIFAR-100 takes ten times that. float16 keeps a
log-probability to a relative 2^-11 (a probability to about 0.05% of itself) down to -65504, where it is
clamped; the comparisons renormalize the stored values (a log-softmax in float64), so the rounding does not
add up to a probability off 1.
"""

import numpy as np
import torch
import torch.nn.functional as F

from memdissect.io import ArtifactError, save_torch
from memdissect.training.batches import EVAL_BATCH_SIZE, as_model_input
from memdissect.training.checkpoints import ArtifactFormat, load_artifact

PROBE_SIZE = 1000  # images per split
PROBE_DTYPE = torch.float16
PATH_FILE = ArtifactFormat("memdissect-probe-path-v1", "a memdissect probe path file")


def probe_indices(split_sizes: dict, size: int = PROBE_SIZE, seed: int = 0) -> dict:
    """The probe set: per split of split_sizes (name: images), min(size, images) distinct indices, sorted.

    Each split draws from its own stream of numpy's PCG64 (spawned from seed in split order), so a split's
    probes depend on its own size, `size` and `seed` only, on every platform.
    """
    if size < 1:
        raise ValueError(f"the probe size must be at least 1, got {size!r}")
    streams = np.random.SeedSequence(seed).spawn(len(split_sizes))
    return {
        split: np.sort(np.random.Generator(np.random.PCG64(stream)).permutation(n)[: min(size, n)])
        for (split, n), stream in zip(split_sizes.items(), streams)
    }


def compact_log_probs(logits: torch.Tensor) -> torch.Tensor:
    """log softmax of logits (N x C), computed in float32 and stored as float16, clamped to its finite range."""
    log_probs = F.log_softmax(logits.float(), dim=-1)
    return log_probs.clamp(min=torch.finfo(PROBE_DTYPE).min).to(PROBE_DTYPE)


@torch.no_grad()
def probe_log_probs(
    model, images_uint8: torch.Tensor, runtime, batch_size: int = EVAL_BATCH_SIZE
) -> torch.Tensor:
    """A classifier's float16 log-probabilities (N x C, on the CPU) on uint8 images, in eval mode, in the
    runtime's precision and memory format (as train.evaluate computes the test accuracy)."""
    model.eval()
    parts = []
    for start in range(0, len(images_uint8), batch_size):
        x = as_model_input(
            images_uint8[start : start + batch_size].to(runtime.device), runtime.channels_last
        )
        with runtime.autocast():
            parts.append(compact_log_probs(model(x)).cpu())
    return torch.cat(parts)


class ProbePath:
    """One run's predictions on the probe set, one record per epoch.

    images: split name to the split's uint8 images (N x 3 x H x W, on the run's device); indices: split name to
    its probe indices (`probe_indices`). It is a part of the run's resume state (state_dict, load_state_dict:
    checkpoints.ResumableRun), so that a resumed run keeps the epochs it recorded before it stopped; a state
    recorded on other probes is refused.
    """

    def __init__(self, images: dict, indices: dict, runtime):
        self.indices = {
            split: torch.as_tensor(indices[split], dtype=torch.long) for split in indices
        }
        self.probes = {
            split: images[split][index.to(images[split].device)]
            for split, index in self.indices.items()
        }
        self.runtime = runtime
        self.records = {split: [] for split in self.indices}  # split: one N x C tensor per epoch

    def record(self, model) -> None:
        for split, images in self.probes.items():
            self.records[split].append(probe_log_probs(model, images, self.runtime))

    def state_dict(self) -> dict:
        records = {split: list(epochs) for split, epochs in self.records.items()}
        return {"indices": dict(self.indices), "records": records}

    def load_state_dict(self, state: dict) -> None:
        recorded = state["indices"]
        if recorded.keys() != self.indices.keys() or not all(
            torch.equal(recorded[s], self.indices[s]) for s in recorded
        ):
            raise ArtifactError(
                "the resume state's probe predictions were recorded on other probe images (another "
                "probe size or seed); delete the resume state and rerun"
            )
        self.records = {split: list(state["records"][split]) for split in self.indices}

    def as_file(self) -> dict:
        """The path file's content: its format, the epochs, the probe indices and per split E x N x C
        log-probabilities."""
        epochs = len(next(iter(self.records.values()), []))
        return {
            "format": PATH_FILE.tag,
            "epochs": torch.arange(1, epochs + 1),
            "indices": dict(self.indices),
            "paths": {split: torch.stack(records) for split, records in self.records.items()},
        }


def save_probe_path(path_file: dict, path) -> None:
    save_torch(path_file, path)


def load_probe_path(path, made_by: str = "") -> dict:
    return load_artifact(path, PATH_FILE, made_by)
