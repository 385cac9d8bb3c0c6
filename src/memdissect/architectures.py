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

PACKAGE_DIR = Path(__file__).parent
BUILT_IN_SOURCES = {"vgg11": "models/vgg.py", "vgg13": "models/vgg.py", "resnet32": "models/resnet.py"}
TORCHVISION_PREFIX = "torchvision:"
EXTERNAL_SOURCE = PACKAGE_DIR / "models" / "external.py"


class ArchitectureError(ValueError):
    """An architecture name that names nothing this machine can build."""


def is_built_in(arch: str) -> bool:
    return arch in BUILT_IN_SOURCES


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
    names |= {target.id for node in tree.body if isinstance(node, ast.Assign)
              for target in node.targets if isinstance(target, ast.Name)}
    names |= {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
              for alias in node.names}
    return function in names


def registered_name(node: ast.FunctionDef) -> str | None:
    """The name under which torchvision's @register_model() decorator registers a constructor, if it does."""
    for decorator in node.decorator_list:
        if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "register_model":
            named = [keyword.value.value for keyword in decorator.keywords if keyword.arg == "name"]
            return named[0] if named else node.name
    return None


@functools.lru_cache(maxsize=1)
def torchvision_models() -> list[str]:
    """torchvision.models.list_models(module=torchvision.models), read from its source files: every job
    re-plans the study, and importing torch for a list of names would cost each one seconds."""
    folder = Path(importlib.util.find_spec("torchvision").submodule_search_locations[0]) / "models"
    names = {registered_name(node) for path in folder.glob("*.py")
             for node in ast.parse(path.read_text()).body if isinstance(node, ast.FunctionDef)}
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
            raise ArchitectureError(f"{arch!r}: torchvision has no classification model {name!r}; valid: "
                                    f"torchvision:<name> with a name from {', '.join(valid[:12])}, ...")
        return
    module, _, function = arch.partition(":")
    path = user_module_file(module, workdir)
    if path is None:
        raise ArchitectureError(f"{arch!r}: no module {module!r} in the working directory {Path(workdir).resolve()} "
                                f"(looked for {module.replace('.', '/')}.py); valid: vgg11, vgg13, resnet32, "
                                f"torchvision:<name>, or <module>:<function> with the module's file there")
    if not defines_function(path, function):
        raise ArchitectureError(f"{arch!r}: {path} defines no {function!r} at its top level; valid: a function "
                                f"there that takes num_classes and returns an nn.Module")


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
