"""The SDK's version, as installed (sent in every callback's User-Agent)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("trainer-sdk")
except PackageNotFoundError:  # running from a source tree or a copied single-file bundle
    __version__ = "0+unknown"
