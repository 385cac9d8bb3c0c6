"""Paths in function space: each run's predictions on a fixed probe set, epoch by epoch, and how far the
paths of two seeds lie apart.

The paper (Figure 4): on X_T "the optimization always follows similar paths", on X_R "obviously different
optimization paths". Two runs can have the same accuracy curve and compute different functions, so the
paths are compared where functions differ: the runs' predictions on the same images.

The probe set is a fixed draw of training and test images, the same for every model of a study
(`probe_indices`: a pure function of the split sizes, the size and a seed). After each epoch a run records
its log-probabilities there (`ProbePath`), in eval mode and at the training's precision, stored as float16:
E x N x C values of 2 bytes per split. The paper's 100 epochs on 1000 + 1000 probes of 10 classes are
100 x 2000 x 10 x 2 B = 4,000,000 B (3.8 MiB) per model; CIFAR-100 takes ten times that. float16 keeps a
log-probability to a relative 2^-11 (a probability to about 0.05% of itself) down to -65504, where it is
clamped; the comparisons renormalize the stored values (a log-softmax in float64), so the rounding does not
add up to a probability off 1.

Two paths a and b are compared per epoch (`pairwise_path_table`): the disagreement (the share of probes
whose most probable class differs) and the symmetric KL, (KL(a || b) + KL(b || a)) / 2 in nats, averaged
over the probes; on the training probe and on the test probe apart.
"""

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from memdissect.dissection.distance import kl_divergence
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


# ----------------------------------------------------------------------- comparing paths


def check_same_probes(files: dict) -> None:
    """ArtifactError unless every path file of files (run: file) holds the same epochs and probe indices."""
    (first, reference), *others = files.items()
    for run, other in others:
        for key in ("epochs", *(f"indices/{split}" for split in reference["indices"])):
            if not torch.equal(part_of(reference, key), part_of(other, key)):
                raise ArtifactError(
                    f"the probe paths of {first} and {run} differ in {key}: they were recorded on "
                    "other probe sets or for other epochs; compare runs of one study only"
                )


def part_of(path_file: dict, key: str) -> torch.Tensor:
    return path_file["epochs"] if key == "epochs" else path_file["indices"][key.split("/", 1)[1]]


def path_divergence(path_a: torch.Tensor, path_b: torch.Tensor) -> dict:
    """Per epoch (E): the disagreement and the symmetric KL of two paths (E x N x C log-probabilities)."""
    disagreement = (path_a.argmax(-1) != path_b.argmax(-1)).double().mean(-1)
    symmetric_kl = 0.5 * (kl_divergence(path_a, path_b) + kl_divergence(path_b, path_a)).mean(-1)
    return {"disagreement": disagreement, "sym_kl": symmetric_kl}


def pairwise_path_table(files: dict) -> pd.DataFrame:
    """Every pair of runs of files (run: path file, at least two), per split and epoch: run_a, run_b, split,
    epoch, disagreement, sym_kl. Pairs in the order of files, each once (run_a before run_b)."""
    if len(files) < 2:
        raise ValueError(f"comparing paths needs at least two runs, got {list(files)}")
    check_same_probes(files)
    runs, epochs = list(files), next(iter(files.values()))["epochs"].numpy()
    blocks = []
    for i, run_a in enumerate(runs):
        for run_b in runs[i + 1 :]:
            for split in files[run_a]["paths"]:
                measures = path_divergence(
                    files[run_a]["paths"][split], files[run_b]["paths"][split]
                )
                blocks.append(
                    pd.DataFrame(
                        {
                            "run_a": run_a,
                            "run_b": run_b,
                            "split": split,
                            "epoch": epochs,
                            **{name: values.numpy() for name, values in measures.items()},
                        }
                    )
                )
    return pd.concat(blocks, ignore_index=True)


def group_pair_table(groups: dict, keys=("condition", "name")) -> pd.DataFrame:
    """pairwise_path_table of each model group (groups: the group's key values, a tuple in the order of keys,
    to its runs' path files), with the keys as columns first."""
    blocks = [
        pairwise_path_table(files).assign(**dict(zip(keys, group)))
        for group, files in groups.items()
    ]
    table = pd.concat(blocks, ignore_index=True)
    return table[[*keys, *(column for column in table.columns if column not in keys)]]
