"""Which architectures a model group may name, and the source files each one's models depend on.

- memdissect's own: ``vgg11``, ``vgg13``, ``resnet32`` (``memdissect/models/``);
- ``torchvision:<name>``: a classification constructor of ``torchvision.models``;
- ``<module>:<function>``: a constructor in the user's own code, importable from the working
  directory and called as ``function(num_classes=C)``.

Torch-free: the plan asks which files a model depends on (so that editing them retrains it)
and the config checks ask whether a name exists, without building anything.
"""

import ast
import functools
import importlib.util
import sys
from pathlib import Path

import memdissect

PACKAGE_DIR = Path(
    memdissect.__file__
).parent  # the package's root, wherever in it this module lies
BUILT_IN_SOURCES = {
    "vgg11": "models/vgg.py",
    "vgg13": "models/vgg.py",
    "resnet32": "models/resnet.py",
}
TORCHVISION_PREFIX = "torchvision:"
EXTERNAL_SOURCE = PACKAGE_DIR / "models" / "external.py"


# Every kind of architecture a model group, a checkpoint, the API and the command may name.
VALID_ARCHITECTURES = (
    "vgg11, vgg13, resnet32, torchvision:<name> (a classification model of torchvision.models) or "
    "<module>:<function> (your constructor, called as function(num_classes=C))"
)
CIFAR10_NORMALIZATION = (
    "CIFAR-10's [0.4914, 0.4822, 0.4465] and [0.2470, 0.2435, 0.2616]"  # models.normalize
)


class ArchitectureError(ValueError):
    """An architecture that names nothing this machine can build, or a network that breaks memdissect's contract."""


def is_built_in(arch: str) -> bool:
    return arch in BUILT_IN_SOURCES


def is_outside(arch: str) -> bool:
    """torchvision:<name> or <module>:<function>: a network from outside memdissect."""
    return ":" in arch


def is_torchvision(arch: str) -> bool:
    return arch.startswith(TORCHVISION_PREFIX)


def default_name(arch: str) -> str:
    """A model group's name when it sets none: the architecture, or the constructor after the colon."""
    return arch.rsplit(":", 1)[-1]


def user_module_file(module: str, workdir=".") -> Path | None:
    """The file of a top-level or dotted module importable from workdir, found without running it."""
    parts = module.split(".")
    base = Path(workdir).resolve().joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def defines_function(path: Path, function: str) -> bool:
    """Whether a source file defines (or assigns) `function` at its top level."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    names |= {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    names |= {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    return function in names


def registered_name(node: ast.FunctionDef) -> str | None:
    """The name under which torchvision's @register_model() decorator registers a constructor, if it does."""
    for decorator in node.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and getattr(decorator.func, "id", None) == "register_model"
        ):
            named = [keyword.value.value for keyword in decorator.keywords if keyword.arg == "name"]
            return named[0] if named else node.name
    return None


@functools.lru_cache(maxsize=1)
def torchvision_models() -> list[str]:
    """torchvision.models.list_models(module=torchvision.models), read from its source files: every job
    re-plans the study, and importing torch for a list of names would cost each one seconds."""
    folder = Path(importlib.util.find_spec("torchvision").submodule_search_locations[0]) / "models"
    names = {
        registered_name(node)
        for path in folder.glob("*.py")
        for node in ast.parse(path.read_text()).body
        if isinstance(node, ast.FunctionDef)
    }
    return sorted(names - {None})


def torchvision_version_file() -> Path:
    """torchvision's version.py: its constructors change only with it, so models depend on it."""
    spec = importlib.util.find_spec("torchvision")
    return Path(spec.submodule_search_locations[0]) / "version.py"


def check_architecture(arch: str, workdir=".") -> None:
    """ArchitectureError naming what is wrong and what would be valid."""
    if is_built_in(arch):
        return
    if is_torchvision(arch):
        name = arch.removeprefix(TORCHVISION_PREFIX)
        valid = torchvision_models()
        if name not in valid:
            raise ArchitectureError(
                f"{arch!r}: torchvision has no classification model {name!r}; valid: "
                f"torchvision:<name> with a name from {', '.join(valid[:12])}, ..."
            )
        return
    module, _, function = arch.partition(":")
    path = user_module_file(module, workdir)
    if path is None:
        raise ArchitectureError(
            f"{arch!r}: no module {module!r} in the working directory {Path(workdir).resolve()} "
            f"(looked for {module.replace('.', '/')}.py); valid: vgg11, vgg13, resnet32, "
            f"torchvision:<name>, or <module>:<function> with the module's file there"
        )
    try:
        defined = defines_function(path, function)
    except SyntaxError as error:
        raise ArchitectureError(
            f"{arch!r}: {path} does not parse ({error.msg}, line {error.lineno}); valid: a Python "
            f"file that defines {function}"
        ) from None
    if not defined:
        raise ArchitectureError(
            f"{arch!r}: {path} defines no {function!r} at its top level; valid: a function "
            f"there that takes num_classes and returns an nn.Module"
        )


def check_normalization(arch: str, mean, std, names=("mean", "std")) -> None:
    """The one rule for the normalization of a plain state_dict, in the workflow, the API and the command: an
    outside network's (torchvision's or yours) must be given, mean and std both; memdissect's own take none or
    both. ArchitectureError naming the options as the caller calls them (`names`)."""
    given = [name for name, value in zip(names, (mean, std)) if value is not None]
    if len(given) == 1 or (not given and is_outside(arch)):
        raise ArchitectureError(
            f"{arch} needs {names[0]} and {names[1]}, the per-channel normalization its network "
            f"expects; valid: both, 3 values each (for example {CIFAR10_NORMALIZATION}, or "
            f"[0, 0, 0] and [1, 1, 1] for none)"
        )


def source_files(arch: str, workdir=".") -> list[str]:
    """The files whose change retrains a model of this architecture."""
    if is_built_in(arch):
        return [str(PACKAGE_DIR / BUILT_IN_SOURCES[arch])]
    if is_torchvision(arch):
        return [str(EXTERNAL_SOURCE), str(torchvision_version_file())]
    path = user_module_file(arch.partition(":")[0], workdir)
    return [str(EXTERNAL_SOURCE)] + ([str(path)] if path else [])


def importable_from(workdir=".") -> None:
    """Put workdir first on sys.path, so that `<module>:<function>` imports the user's module."""
    resolved = str(Path(workdir).resolve())
    if resolved not in sys.path:
        sys.path.insert(0, resolved)
