"""Atomic writes and checked reads of the study's artifacts.

Every output is written under a temporary name in the same folder and renamed into place,
so a killed job never leaves a file that looks finished. It gets the permissions the user's
umask gives a plain open(), so that the user's group can read a study where the umask lets it.
"""

import collections
import contextlib
import hashlib
import json
import os
import pickle
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

TENSOR_FILE = "a file of tensors, such as torch.save(model.state_dict(), path) writes"


class ArtifactError(RuntimeError):
    """A file of the study is missing, truncated or not what it claims to be."""


class DataError(ValueError):
    """A data set, image or label file is missing, incomplete, unreadable or does not match the study."""


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temporary_file(path)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def new_temporary_file(path: Path) -> Path:
    """An empty file of a fresh name beside path, made as open() makes a file (mode 0666 less the umask),
    not as mkstemp does (0600, whatever the umask)."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


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
        raise holds_python_objects(path, refused.group(1), made_by) from None
    except Exception as error:  # torch raises several types for a truncated zip
        raise unreadable(path, error, made_by) from None


@dataclass(frozen=True)
class TensorShape:
    """A tensor of a file read by `peek_torch`: its shape and dtype, not its values."""

    shape: tuple
    dtype: str


def tensor_shape(storage_dtype, offset, size, *rest) -> TensorShape:
    return TensorShape(tuple(size), storage_dtype)


def parameter_data(data, *rest):
    return data


class ShapeUnpickler(pickle.Unpickler):
    """The pickle of a torch.save file, built of containers and TensorShapes only: any other global is refused."""

    GLOBALS = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): tensor_shape,
        ("torch._utils", "_rebuild_parameter"): parameter_data,
        ("torch._utils", "_rebuild_parameter_with_state"): parameter_data,
    }

    def __init__(self, handle, path):
        super().__init__(handle)
        self.path = path

    def find_class(self, module, name):
        if module == "torch" and name.endswith(
            "Storage"
        ):  # FloatStorage: the dtype of a tensor's values
            return name.removesuffix("Storage").lower()
        if (module, name) not in self.GLOBALS:
            raise holds_python_objects(self.path, f"{module}.{name}")
        return self.GLOBALS[module, name]

    def persistent_load(
        self, key
    ):  # ("storage", its dtype, ...): the values themselves are never read
        return key[1]


def peek_torch(path):
    """What a file that torch.save wrote holds, read without torch and without running any code: its dicts,
    lists and values, with every tensor as its TensorShape. None for a file in torch's legacy (not zip)
    format; ArtifactError for a file that is truncated, not torch's, or holds Python objects."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            if handle.read(1) == b"\x80":  # a pickle: torch's legacy format, which only torch reads
                return None
        raise ArtifactError(
            f"{path} is truncated or not a file torch.save wrote; valid: {TENSOR_FILE}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            name = next(entry for entry in archive.namelist() if entry.endswith("/data.pkl"))
            with archive.open(name) as handle:
                return ShapeUnpickler(handle, path).load()
    except (
        StopIteration,
        zipfile.BadZipFile,
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
    ) as error:
        raise ArtifactError(
            f"{path} is truncated or not a file torch.save wrote ({type(error).__name__}); "
            f"valid: {TENSOR_FILE}"
        ) from None


def holds_python_objects(path, name: str, made_by: str = "") -> ArtifactError:
    return ArtifactError(
        f"{path} holds Python objects ({name}), which memdissect does not unpickle: loading them "
        f"could run any code{made_by_hint(made_by)}; valid: {TENSOR_FILE}"
    )


def unreadable(path: Path, error: Exception, made_by: str) -> ArtifactError:
    """A truncated or foreign file: its first line of error, and what to do with the file."""
    detail = str(error).split("WeightsUnpickler error:", 1)[
        -1
    ]  # past torch's paragraph on weights_only
    reason = next((line.strip() for line in detail.splitlines() if line.strip()), "")
    fix = (
        f"{made_by_hint(made_by)}; delete it and rerun"
        if made_by
        else "; valid: a file that torch.save wrote"
    )
    return ArtifactError(
        f"{path} is truncated or not a memdissect artifact ({type(error).__name__}: {reason}){fix}"
    )


def write_parquet(frame, path) -> None:
    with atomic_path(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_csv(frame, path) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)  # every float as repr writes it: read back, the same float


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
