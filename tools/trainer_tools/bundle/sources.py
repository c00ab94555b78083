"""What goes into the bundle: the modules and data files of the bundled packages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

# The packages the bundle carries, as folders of the project (import name = folder name).
PACKAGE_DIRS: tuple[str, ...] = ("sdk/trainer_sdk", "generated/trainer_contract")

# Files that are never part of a package: caches, editor and patch leftovers.
_SKIPPED_SUFFIXES = (".pyc", ".pyo", "~", ".orig", ".rej", ".swp", ".bak")


@dataclass(frozen=True)
class EmbeddedModule:
    """One module: its import name, whether it is a package, its path inside the bundle."""

    name: str
    is_package: bool
    path: str  # e.g. trainer_sdk/delivery/__init__.py
    source: str


@dataclass(frozen=True)
class EmbeddedData:
    """A file of a package that is not Python (schemas, openapi.json, py.typed)."""

    path: str  # e.g. trainer_contract/schemas/env.json
    content: bytes


@dataclass(frozen=True)
class BundleSources:
    """Everything the bundle embeds, sorted by path."""

    modules: tuple[EmbeddedModule, ...]
    data: tuple[EmbeddedData, ...]

    def sha256(self) -> str:
        """A digest of every embedded path and content: which sources a bundle was built from."""
        digest = hashlib.sha256()
        for module in self.modules:
            digest.update(f"{module.path}\0{int(module.is_package)}\0".encode())
            digest.update(module.source.encode("utf-8") + b"\0")
        for data in self.data:
            digest.update(f"{data.path}\0".encode() + data.content + b"\0")
        return digest.hexdigest()


def _wanted(path: Path, package_dir: Path) -> bool:
    relative = path.relative_to(package_dir).parts
    if any(part == "__pycache__" or part.startswith(".") for part in relative):
        return False
    return path.is_file() and not path.name.endswith(_SKIPPED_SUFFIXES)


def collect_sources(root: Path) -> BundleSources:
    """Read the bundled packages under the project folder `root`."""
    return collect_package_sources([root / folder for folder in PACKAGE_DIRS])


def collect_package_sources(package_dirs: list[Path]) -> BundleSources:
    """Read the bundled packages from their folders (the project's, or the installed ones).

    A folder holding Python files but no `__init__.py` (a namespace package) becomes a package
    with an empty `__init__`, which imports the same way.
    """
    modules: dict[str, EmbeddedModule] = {}
    data: list[EmbeddedData] = []
    for package_dir in package_dirs:
        if not (package_dir / "__init__.py").is_file():
            raise FileNotFoundError(
                f"{package_dir} is not a Python package (no __init__.py): run the bundler from "
                f"the project folder, or pass --root; for generated/, run `make generate` first"
            )
        base = package_dir.parent
        for path in sorted(package_dir.rglob("*")):
            if not _wanted(path, package_dir):
                continue
            inside = path.relative_to(base).as_posix()
            if path.suffix != ".py":
                data.append(EmbeddedData(inside, path.read_bytes()))
                continue
            try:
                source = path.read_bytes().decode("utf-8")
            except UnicodeDecodeError as error:
                raise ValueError(
                    f"{path}: not UTF-8 ({error}); save the file as UTF-8 so it can be bundled"
                ) from error
            parts = inside.removesuffix(".py").split("/")
            is_package = parts[-1] == "__init__"
            name = ".".join(parts[:-1] if is_package else parts)
            modules[name] = EmbeddedModule(name, is_package, inside, source)
    for module in list(modules.values()):
        # Every parent of a module must be an importable package.
        parts = module.name.split(".")
        for depth in range(1, len(parts)):
            parent = ".".join(parts[:depth])
            if parent not in modules:
                init = "/".join(parts[:depth]) + "/__init__.py"
                modules[parent] = EmbeddedModule(parent, True, init, "")
    return BundleSources(
        tuple(sorted(modules.values(), key=lambda m: m.path)),
        tuple(sorted(data, key=lambda d: d.path)),
    )
