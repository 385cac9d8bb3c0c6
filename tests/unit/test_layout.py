"""The package's layout as its docs state it: each subpackage's __init__ names its modules with the start of
each one's docstring, the README's tree names every module, and the subpackages import one another without
a cycle."""

import ast
import graphlib
import re
from pathlib import Path

import pytest

import memdissect

PACKAGE = Path(memdissect.__file__).parent
README = PACKAGE.parents[1] / "README.md"
SUBPACKAGES = sorted(path.parent for path in PACKAGE.rglob("__init__.py") if path.parent != PACKAGE)


def docstring(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def one_line(text: str) -> str:
    return " ".join(text.split())


def modules_of(folder: Path) -> dict:
    """name: path, for the modules of a folder (name.py) and its subpackages (name/)."""
    modules = {path.stem: path for path in folder.glob("*.py") if path.stem != "__init__"}
    modules |= {
        f"{path.name}/": path / "__init__.py"
        for path in folder.iterdir()
        if (path / "__init__.py").exists()
    }
    return modules


def listed_in_init(folder: Path) -> dict:
    """name: description, from the "- name: description" entries of the __init__'s docstring."""
    entries = re.findall(
        r"^- (\S+): (.*?)(?=^- |\Z)", docstring(folder / "__init__.py"), re.M | re.S
    )
    return {name: one_line(text) for name, text in entries}


@pytest.mark.parametrize("folder", SUBPACKAGES, ids=lambda folder: folder.name)
def test_each_init_names_its_modules_with_the_start_of_their_docstrings(folder):
    listed = listed_in_init(folder)
    modules = modules_of(folder)
    assert sorted(listed) == sorted(modules)
    for name, description in listed.items():
        assert description.endswith("."), name
        assert one_line(docstring(modules[name])).startswith(description), name


def readme_tree() -> dict:
    """The README's package tree: entry (a file, or a folder ending in /) -> the text beside it, continuation
    lines joined."""
    block = README.read_text().split("```\nsrc/memdissect/\n", 1)[1].split("```", 1)[0]
    tree: dict = {}
    for line in block.splitlines():
        if line.startswith("  ") and not line[2].isspace():
            entry, _, text = line.strip().partition(" ")
            tree[entry] = text.strip()
        else:
            tree[entry] += " " + line.strip()
    return tree


def named_in_tree(text: str) -> list:
    """The names of "label: a (what it is), b, c; sub/: d, e": a, b, c, sub/d, sub/e."""
    names = []
    for part in re.sub(r"\([^)]*\)", "", text).split(";"):
        prefix, _, listed = part.strip().rpartition(": ")
        folder = prefix if prefix.endswith("/") else ""
        names += [folder + name.strip() for name in listed.split(",")]
    return names


def test_the_readme_tree_names_every_module_and_no_other():
    tree = readme_tree()
    assert sorted(tree) == sorted(
        [path.name for path in PACKAGE.glob("*.py")]
        + [f"{folder.name}/" for folder in PACKAGE.iterdir() if (folder / "__init__.py").exists()]
    )
    for folder in (entry for entry in tree if entry.endswith("/")):
        named = named_in_tree(tree[folder])
        on_disk = [
            str(
                path.relative_to(PACKAGE / folder).with_suffix(
                    "" if path.suffix == ".py" else path.suffix
                )
            )
            for path in (PACKAGE / folder).rglob("*")
            if path.is_file() and path.name != "__init__.py" and path.suffix in (".py", ".mplstyle")
        ]
        assert sorted(named) == sorted(on_disk), folder


def imports_of(path: Path) -> set:
    """The memdissect subpackages a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = (
                [node.module]
                if node.module != "memdissect"
                else [f"memdissect.{a.name}" for a in node.names]
            )
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("memdissect.")}
    return found


def test_the_subpackages_import_one_another_without_a_cycle():
    subpackages = {folder.name for folder in SUBPACKAGES if folder.parent == PACKAGE}
    imports = {
        name: {
            other
            for path in (PACKAGE / name).rglob("*.py")
            for other in imports_of(path)
            if other in subpackages and other != name
        }
        for name in subpackages
    }
    graphlib.TopologicalSorter(imports).prepare()  # raises CycleError naming the cycle


def test_only_the_top_modules_import_the_api():
    importing = [
        str(path.relative_to(PACKAGE))
        for folder in SUBPACKAGES
        for path in folder.rglob("*.py")
        if {"api", "inspect", "cli"} & imports_of(path)
    ]
    assert importing == []
