"""The rules of the house: which package may import which, no import circle, nothing imports a command, and
no module knows both Gradio and TensorFlow. Read from the source, every import (lazy ones too)."""

import ast
import pathlib

import pytest

from conftest import ROOT

PACKAGE = pathlib.Path(ROOT) / "artnet"
BASICS = "basics"
# What each package may import, besides itself. The basics are the top-level modules (styles, errors,
# files, progress, threads).
ALLOWED = {
    BASICS: set(),
    "data": {BASICS},
    "model": {BASICS, "data"},
    "explain": {BASICS, "data", "model"},
    "serve": {BASICS, "data", "model", "explain"},
    "hub": {BASICS, "data", "model", "explain"},
    "train": {BASICS, "data", "model", "explain", "hub"},
    "cli": {BASICS, "data", "model", "explain", "serve", "hub"},
}
TENSORFLOW = {"tensorflow", "keras"}


def module_name(path):
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports_of(path):
    """Every module that the file at `path` imports, anywhere in it, by its full dotted name."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            # `from artnet.train import fitting` imports the module artnet.train.fitting.
            names.update(
                f"{node.module}.{alias.name}"
                for alias in node.names
                if PACKAGE.parent.joinpath(*f"{node.module}.{alias.name}".split(".")).with_suffix(".py").exists()
            )
    return names


def package_of(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (PACKAGE / parts[1]).is_dir() else BASICS


# Every module of the library but the package's own __init__, which imports nothing.
MODULES = {
    module_name(path): imports_of(path) for path in sorted(PACKAGE.rglob("*.py")) if path != PACKAGE / "__init__.py"
}
ARTNET_IMPORTS = {module: {name for name in names if name in MODULES} for module, names in MODULES.items()}


def test_every_module_is_in_a_package_the_rules_know():
    assert {package_of(module) for module in MODULES} == set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_packages_below_it(package):
    forbidden = sorted(
        (module, imported)
        for module, imported_modules in ARTNET_IMPORTS.items()
        if package_of(module) == package
        for imported in imported_modules
        if package_of(imported) != package and package_of(imported) not in ALLOWED[package]
    )
    assert forbidden == [], f"{package} may import only {sorted(ALLOWED[package])}"


def test_serving_never_imports_training():
    served = {module for module in MODULES if package_of(module) == "serve"}
    assert not {imported for module in served for imported in ARTNET_IMPORTS[module] if package_of(imported) == "train"}


def test_nothing_in_the_library_imports_a_command():
    assert (
        sorted(
            (module, imported)
            for module, imported_modules in ARTNET_IMPORTS.items()
            if package_of(module) != "cli"
            for imported in imported_modules
            if package_of(imported) == "cli"
        )
        == []
    )


def test_the_modules_import_each_other_in_no_circle():
    visiting, done, circles = [], set(), []

    def visit(module):
        if module in visiting:
            circles.append(visiting[visiting.index(module) :] + [module])
            return
        if module in done:
            return
        visiting.append(module)
        for imported in sorted(ARTNET_IMPORTS[module]):
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in sorted(MODULES):
        visit(module)
    assert circles == []


def test_no_module_knows_both_gradio_and_tensorflow():
    both = [
        module
        for module, names in MODULES.items()
        if any(name.split(".")[0] == "gradio" for name in names)
        and any(name.split(".")[0] in TENSORFLOW for name in names)
    ]
    assert both == []


def test_the_rules_catch_a_forbidden_import(tmp_path):
    """A serving module that imported training would be found: the checks above can fail."""
    offender = tmp_path / "artnet" / "serve" / "offender.py"
    offender.parent.mkdir(parents=True)
    offender.write_text("def late():\n    from artnet.train.run import train\n")
    names = imports_of(offender)
    assert "artnet.train.run" in names and package_of("artnet.train.run") not in ALLOWED["serve"]
