"""clients/python is a standalone package: its own build metadata and typing marker, one runtime dependency
(httpx2, which the server's runtime lock already pins in range), and no import of the server either way."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import tryon_client
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
PACKAGE = ROOT / "clients" / "python"
SOURCE = PACKAGE / "src" / "tryon_client"
SERVER_PACKAGES = (
    "tryon_project",
    "accounts",
    "customers",
    "products",
    "watermark",
    "engines",
    "generations",
    "webhooks",
)


def _top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_has_build_metadata_a_readme_and_a_typing_marker():
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert project["project"]["name"] == "tryon-client"
    assert project["project"]["version"] == tryon_client.__version__
    assert project["project"]["dependencies"] == ["httpx2>=2.9,<3"]
    assert (PACKAGE / project["project"]["readme"]).is_file()
    assert (SOURCE / "py.typed").is_file()
    # The installed package is this source (the development lock installs it editable).
    assert Path(tryon_client.__file__).resolve().parent == SOURCE.resolve()


def test_the_client_imports_only_the_standard_library_and_httpx2():
    imported = set().union(*(_top_level_imports(path) for path in SOURCE.rglob("*.py")))
    assert imported - set(sys.stdlib_module_names) == {"httpx2", "tryon_client"}


def test_the_server_never_imports_the_client():
    for package in SERVER_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            assert "tryon_client" not in _top_level_imports(path), path


def test_the_runtime_lock_pins_an_httpx2_in_the_clients_range():
    pins = dict(line.split("==", 1) for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line)
    major, minor = (int(part) for part in pins["httpx2"].split(".")[:2])
    assert major == 2 and minor >= 9
