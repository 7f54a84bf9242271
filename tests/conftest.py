"""Shared fixtures: workspaces on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _pg_base_url() -> str | None:
    url = os.environ.get("DRIFTLINE_TEST_PG_URL")
    if not url:
        if os.environ.get("DRIFTLINE_TEST_REQUIRE_PG"):
            pytest.fail("DRIFTLINE_TEST_REQUIRE_PG is set but DRIFTLINE_TEST_PG_URL is not")
        pytest.skip("PostgreSQL tests skipped: set DRIFTLINE_TEST_PG_URL to run them")
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import sqlalchemy as sa

    base = _pg_base_url()
    assert base is not None
    schema = f"dl_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        if os.environ.get("DRIFTLINE_TEST_REQUIRE_PG"):
            raise
        pytest.skip(f"PostgreSQL tests skipped: cannot reach {base}: {exc.orig}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The metadata DB URL, once for SQLite and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'driftline.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def workspace(tmp_path: Path, db_url: str) -> Iterator[object]:
    """An open workspace on each database."""
    from driftline import Workspace

    with Workspace.open(home=tmp_path / "home", db_url=db_url) as ws:
        yield ws


@pytest.fixture
def datasets() -> Path:
    """The shared real datasets (read-only)."""
    if not DATASETS.is_dir():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    return DATASETS
