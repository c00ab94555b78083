"""The reference backend: every callback endpoint of the contract, a lifecycle, a SQLite record.

`create_app(Store(path), token=None)` builds the Starlette app; `trainer-sdk dev-backend` serves it.
"""

from trainer_tools.dev_backend.app import OPENAPI_PATH, TIMELINE_PATH, create_app
from trainer_tools.dev_backend.store import Store, TimelineEntry

__all__ = ["OPENAPI_PATH", "TIMELINE_PATH", "Store", "TimelineEntry", "create_app"]
