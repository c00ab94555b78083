"""Fixtures of the backend tests: a fresh store, and the app over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from backend_bodies import TestClient, make_client

from trainer_tools.dev_backend import Store


@pytest.fixture
def store() -> Iterator[Store]:
    """A fresh in-memory store."""
    db = Store(":memory:")
    yield db
    db.close()


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    """The reference backend without a token."""
    with make_client(store) as test_client:
        yield test_client
