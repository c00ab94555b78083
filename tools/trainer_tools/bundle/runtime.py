"""The import machinery of the single-file SDK; its source is embedded in `trainer_sdk.py`.

The bundle file carries every module of `trainer_sdk` and `trainer_contract` as source text. When
Python imports the file as `trainer_sdk`, the file runs this module's code as
`trainer_sdk._bundle` and calls `install()`, which puts a meta path finder in front of
`sys.meta_path` for the embedded names, turns the bundle module into a package and executes the
real `trainer_sdk/__init__.py` in the bundle module's own namespace. From then on
`from trainer_sdk import TrainerSDK`, `import trainer_sdk.delivery.sender` and
`importlib.resources.files("trainer_contract")` behave as with the installed package.

Only the standard library may be imported here: this code runs before anything else of the SDK.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import io
import linecache
import os
import posixpath
import sys
import threading
import traceback
import types
from collections.abc import Iterator, Mapping, Sequence
from importlib.resources.abc import Traversable, TraversableResources
from typing import IO, Any

# The import names whose modules the bundle carries; everything else is left to Python.
ROOTS = ("trainer_sdk", "trainer_contract")
# The distribution the bundle stands for (`importlib.metadata.version("trainer-sdk")`).
DISTRIBUTION = "trainer-sdk"


def _normalized(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


class BundleDistribution(importlib.metadata.Distribution):
    """The metadata of the bundled trainer-sdk: its version reaches the SDK's User-Agent."""

    def __init__(self, version: str, origin: str) -> None:
        self._metadata = (
            f"Metadata-Version: 2.1\nName: {DISTRIBUTION}\nVersion: {version}\n"
            f"Summary: trainer-sdk as one file ({origin})\n"
        )
        self._origin = origin

    def read_text(self, filename: str) -> str | None:
        """METADATA; the bundle has no other metadata file."""
        return self._metadata if filename in ("METADATA", "PKG-INFO") else None

    def locate_file(self, path: str | os.PathLike[str]) -> Any:
        """Paths are relative to the folder holding the bundle."""
        return posixpath.join(posixpath.dirname(self._origin), os.fspath(path))


class EmbeddedFiles:
    """Every file of the embedded packages by path (`trainer_contract/openapi.json`)."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = dict(files)
        # Every folder (path -> names of its children), so that `is_dir` and `iterdir` need no scan.
        self.folders: dict[str, set[str]] = {}
        for path in self.files:
            parts = path.split("/")
            for depth in range(len(parts)):
                self.folders.setdefault("/".join(parts[:depth]), set()).add(parts[depth])


class EmbeddedPath(Traversable):
    """A file or folder inside the bundle, for `importlib.resources.files()`."""

    def __init__(self, tree: EmbeddedFiles, path: str) -> None:
        self._tree = tree
        self._path = path

    def __repr__(self) -> str:
        return f"EmbeddedPath({self._path!r})"

    @property
    def name(self) -> str:
        """The last part of the path."""
        return posixpath.basename(self._path)

    def iterdir(self) -> Iterator[EmbeddedPath]:
        """The children of a folder, sorted by name."""
        if not self.is_dir():
            raise NotADirectoryError(f"{self._path} is not a folder of the bundle")
        for child in sorted(self._tree.folders[self._path]):
            yield EmbeddedPath(self._tree, f"{self._path}/{child}")

    def is_dir(self) -> bool:
        """True for a folder of the bundle."""
        return self._path in self._tree.folders

    def is_file(self) -> bool:
        """True for a file of the bundle."""
        return self._path in self._tree.files

    def joinpath(self, *descendants: str | os.PathLike[str]) -> EmbeddedPath:
        """A path below this one (`files("trainer_contract") / "schemas" / "env.json"`)."""
        pieces = [piece for part in descendants for piece in os.fspath(part).split("/") if piece]
        path = "/".join([self._path, *pieces]) if self._path else "/".join(pieces)
        return EmbeddedPath(self._tree, path)

    def __truediv__(self, child: str | os.PathLike[str]) -> EmbeddedPath:
        return self.joinpath(child)

    def read_bytes(self) -> bytes:
        """The file's content."""
        with self.open("rb") as handle:
            data: bytes = handle.read()
        return data

    def read_text(self, encoding: str | None = None) -> str:
        """The file's content decoded (UTF-8 unless told otherwise)."""
        return self.read_bytes().decode(encoding or "utf-8")

    def open(self, mode: str = "r", *args: Any, **kwargs: Any) -> IO[Any]:
        """Read a file (the bundle is read-only)."""
        if mode not in ("r", "rb"):
            raise PermissionError(f"{self._path}: files inside trainer_sdk.py are read-only")
        data = self._tree.files.get(self._path)
        if data is None:
            raise FileNotFoundError(f"{self._path} is not a file of the bundle")
        if mode == "rb":
            return io.BytesIO(data)
        encoding = kwargs.get("encoding") or (args[0] if args else None) or "utf-8"
        return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=kwargs.get("errors"))


class EmbeddedResources(TraversableResources):
    """The resource reader of one embedded package."""

    def __init__(self, tree: EmbeddedFiles, folder: str) -> None:
        self._tree = tree
        self._folder = folder

    def files(self) -> EmbeddedPath:
        """The package's folder."""
        return EmbeddedPath(self._tree, self._folder)


class BundleImporter(importlib.abc.MetaPathFinder, importlib.abc.InspectLoader):
    """Finds and loads the embedded modules; also their source (tracebacks) and resources."""

    def __init__(
        self,
        sources: Mapping[str, tuple[bool, str, str]],
        tree: EmbeddedFiles,
        origin: str,
        version: str,
    ) -> None:
        # module name -> (is a package, path inside the bundle, source text)
        self._sources = dict(sources)
        self._tree = tree
        self.origin = origin
        self.version = version

    def __repr__(self) -> str:
        return f"BundleImporter({self.origin!r}, {len(self._sources)} modules)"

    def filename(self, fullname: str) -> str:
        """The name tracebacks show: the bundle's path, then the module's path inside it."""
        return f"{self.origin}/{self._sources[fullname][1]}"

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """A spec for an embedded module; None for every other name."""
        entry = self._sources.get(fullname)
        if entry is None:
            return None
        spec = importlib.util.spec_from_loader(
            fullname, self, origin=self.filename(fullname), is_package=entry[0]
        )
        if spec is not None:
            # `__file__` points into the bundle, so messages name where the code came from.
            spec.has_location = True
        return spec

    def find_distributions(
        self, context: importlib.metadata.DistributionFinder.Context | None = None
    ) -> Iterator[BundleDistribution]:
        """trainer-sdk's metadata, for `importlib.metadata` (which asks every meta path finder)."""
        name = context.name if context is not None else None
        if name is None or _normalized(name) == DISTRIBUTION:
            yield BundleDistribution(self.version, self.origin)

    def is_package(self, fullname: str) -> bool:
        """True for a package (`trainer_sdk.delivery`)."""
        return self._entry(fullname)[0]

    def get_source(self, fullname: str) -> str:
        """The embedded source; linecache reads it for tracebacks."""
        return self._entry(fullname)[2]

    def get_code(self, fullname: str) -> types.CodeType:
        """The module compiled under its name inside the bundle."""
        return compile(
            self.get_source(fullname), self.filename(fullname), "exec", dont_inherit=True
        )

    def exec_module(self, module: types.ModuleType) -> None:
        """Run the module's code in its namespace."""
        exec(self.get_code(module.__name__), module.__dict__)

    def register_sources(self) -> None:
        """Put every embedded source in `linecache` under its file name inside the bundle, so
        that tracebacks, `inspect` and logging show the lines without needing a loader."""
        for name, (_, _, source) in self._sources.items():
            filename = self.filename(name)
            lines = source.splitlines(keepends=True)
            # mtime None: `linecache.checkcache` leaves the entry alone (no file to compare).
            linecache.cache[filename] = (len(source), None, lines, filename)

    def get_resource_reader(self, fullname: str) -> EmbeddedResources:
        """Resources of a package (`importlib.resources.files("trainer_contract")`)."""
        folder = posixpath.dirname(self._entry(fullname)[1])
        return EmbeddedResources(self._tree, folder)

    def _entry(self, fullname: str) -> tuple[bool, str, str]:
        entry = self._sources.get(fullname)
        if entry is None:
            raise ImportError(f"{fullname} is not in the bundle {self.origin}", name=fullname)
        return entry


def _print_exception(
    kind: type[BaseException], value: BaseException, tb: types.TracebackType | None
) -> None:
    """sys.excepthook printing through `traceback`, which reads `linecache` (CPython's
    built-in printer opens the files by name and shows no line for the embedded modules)."""
    traceback.print_exception(kind, value, tb)


def _print_thread_exception(args: Any) -> None:
    """threading.excepthook like the default one, printing through `traceback`."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else threading.get_ident()
    print(f"Exception in thread {name}:", file=sys.stderr, flush=True)
    traceback.print_exception(args.exc_type, args.exc_value, args.exc_traceback)


def _show_sources_in_tracebacks() -> None:
    """Print uncaught exceptions through `traceback` where Python's own hooks are in place
    (a hook the trainer or a framework set is left alone)."""
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _print_exception
    if threading.excepthook is threading.__excepthook__:
        threading.excepthook = _print_thread_exception


def install(
    bundle: types.ModuleType,
    modules: Sequence[tuple[str, bool, str, str]],
    data: Sequence[tuple[str, str | bytes]],
    version: str,
) -> BundleImporter:
    """Make the bundle module the `trainer_sdk` package and run its `__init__`.

    `modules` lists (module name, is a package, path inside the bundle, source); `data` lists
    (path inside the bundle, content) of every other file of the packages; `version` is the
    trainer-sdk version the bundle was built from.
    """
    if bundle.__name__ != ROOTS[0]:
        raise ImportError(
            f"the single-file SDK was imported as {bundle.__name__!r}; it must be imported as "
            f"{ROOTS[0]!r}: name the file trainer_sdk.py and write `from trainer_sdk import "
            f"TrainerSDK, ErrorType`",
            name=bundle.__name__,
        )
    origin = str(bundle.__file__)
    for name, loaded in list(sys.modules.items()):
        foreign = name.split(".")[0] == ROOTS[1] and not isinstance(
            getattr(loaded, "__loader__", None), BundleImporter
        )
        if foreign:
            raise ImportError(
                f"{name} is already imported from {getattr(loaded, '__file__', '?')}, so the "
                f"single-file SDK {origin} cannot provide it: use either the installed "
                f"trainer-sdk package or trainer_sdk.py, not both (remove one of them)",
                name=name,
            )
    files: dict[str, bytes] = {path: source.encode("utf-8") for _, _, path, source in modules}
    for path, content in data:
        files[path] = content.encode("utf-8") if isinstance(content, str) else content
    importer = BundleImporter(
        {name: (package, path, source) for name, package, path, source in modules},
        EmbeddedFiles(files),
        origin,
        version,
    )
    sys.meta_path.insert(0, importer)
    importer.register_sources()
    _show_sources_in_tracebacks()
    # An empty __path__ makes the module a package: its submodules are looked up on
    # sys.meta_path, where the importer answers for them.
    bundle.__path__ = []
    # The package's own code runs in the bundle module's namespace, so that the module Python
    # imported from trainer_sdk.py *is* the trainer_sdk package; its tracebacks and
    # `inspect.getsource` read the embedded __init__ through this loader.
    bundle.__loader__ = importer
    if bundle.__spec__ is not None:
        bundle.__spec__.loader = importer
        bundle.__spec__.submodule_search_locations = []
    exec(importer.get_code(ROOTS[0]), bundle.__dict__)
    return importer
