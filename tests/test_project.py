"""The project's own declarations agree: pyproject.toml's dependencies are requirements.txt's pins, which a
Space installs, and its console scripts name commands that exist."""

import importlib
import pathlib
import tomllib

from conftest import ROOT

PROJECT = tomllib.loads((pathlib.Path(ROOT) / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def requirement_lines(name):
    lines = (pathlib.Path(ROOT) / name).read_text(encoding="utf-8").splitlines()
    return [line.split("#")[0].strip() for line in lines if line.split("#")[0].strip()]


def test_the_package_depends_on_exactly_the_pinned_runtime_requirements():
    assert sorted(PROJECT["dependencies"]) == sorted(requirement_lines("requirements.txt"))
    assert all("==" in requirement for requirement in PROJECT["dependencies"])


def test_every_console_script_is_a_command_with_a_main():
    for script, target in PROJECT["scripts"].items():
        module, function = target.split(":")
        assert module.startswith("artnet.cli.") and callable(getattr(importlib.import_module(module), function)), script
