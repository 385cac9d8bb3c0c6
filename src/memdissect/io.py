"""Atomic writes and checked reads of the study's artifacts.

Every output is written under a temporary name in the same folder and renamed into place,
so a killed job never leaves a file that looks finished.
"""

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path


class ArtifactError(RuntimeError):
    """A file of the study is missing, truncated or not what it claims to be."""


class DataError(ValueError):
    """A data set, image or label file is missing, incomplete, unreadable or does not match the study."""


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_torch(obj, path) -> None:
    """torch.save, atomically and byte-reproducibly.

    torch.save names the zip archive's top folder after the file it writes to; saving to a
    buffer keeps that name fixed, so equal objects give equal bytes whatever the temporary name.
    """
    import io

    import torch

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getbuffer())


def load_torch(path, made_by: str = "", map_location="cpu"):
    """torch.load with weights_only=True, turning a bad file into one line that names it: a file a rule made
    (made_by) is to be deleted and remade; a file the user gave (no made_by) is never to be deleted."""
    import pickle

    import torch

    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path} does not exist{made_by_hint(made_by)}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        refused = re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
        if refused is None:
            raise unreadable(path, error, made_by) from None
        raise ArtifactError(
            f"{path} holds Python objects ({refused.group(1)}), which memdissect does not unpickle: loading them "
            f"could run any code{made_by_hint(made_by)}; valid: a file of tensors, such as "
            f"torch.save(model.state_dict(), path) writes"
        ) from None
    except Exception as error:  # torch raises several types for a truncated zip
        raise unreadable(path, error, made_by) from None


def unreadable(path: Path, error: Exception, made_by: str) -> ArtifactError:
    """A truncated or foreign file: its first line of error, and what to do with the file."""
    detail = str(error).split("WeightsUnpickler error:", 1)[-1]  # past torch's paragraph on weights_only
    reason = next((line.strip() for line in detail.splitlines() if line.strip()), "")
    fix = f"{made_by_hint(made_by)}; delete it and rerun" if made_by else "; valid: a file that torch.save wrote"
    return ArtifactError(f"{path} is truncated or not a memdissect artifact ({type(error).__name__}: {reason}){fix}")


def write_parquet(frame, path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv(frame, path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def read_parquet(path, made_by: str = ""):
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise ArtifactError(f"{path} does not exist{made_by_hint(made_by)}")
    try:
        return pd.read_parquet(path)
    except Exception as error:
        raise ArtifactError(
            f"{path} is truncated or not a parquet table ({type(error).__name__}: {error})"
            f"{made_by_hint(made_by)}; delete it and rerun"
        ) from None


def made_by_hint(rule: str) -> str:
    return f" (made by rule {rule!r})" if rule else ""


def settings_hash(settings: dict) -> str:
    """A short, stable hash of a settings dict, stored in checkpoints to refuse mismatches."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
