"""Paths in function space: each run's predictions on a fixed probe set, epoch by epoch, and how far the
paths of two seeds lie apart.

The paper (Figure 4): on X_T "the optimization always follows similar paths", on X_R "obviously different
optimization paths". Two runs can have the same accuracy curve and compute different functions, so the
paths are compared where functions differ: the runs' predictions on the same images.

Two paths a and b are compared per epoch (`pairwise_path_table`): the disagreement (the share of probes
whose most probable class differs) and the symmetric KL, (KL(a || b) + KL(b || a)) / 2 in nats, averaged
over the probes; on the training probe and on the test probe apart.

The paths are those training records (memdissect.training.probe_path).
"""

import pandas as pd
import torch

from memdissect.dissection.distance import kl_divergence
from memdissect.io import ArtifactError


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
