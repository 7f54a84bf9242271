from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from driftline.exceptions import IntegrityError, NotFoundError, ValidationError
from driftline.store import FsspecArtifactStore, LocalArtifactStore, open_artifact_store


def test_put_and_get_round_trip(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "a")
    ref = store.put_bytes(b"hello")
    sha = hashlib.sha256(b"hello").hexdigest()
    assert (ref.sha256, ref.size) == (sha, 5)
    assert (tmp_path / "a" / "sha256" / sha[:2] / sha[2:]).read_bytes() == b"hello"
    assert store.get_bytes(sha) == b"hello"
    assert store.exists(sha)
    assert ref.uri.startswith("file://") and ref.uri.endswith(sha[2:])


def test_same_bytes_are_stored_once_and_no_temp_files_remain(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put_bytes(b"x" * 10)
    store.put_bytes(b"x" * 10)
    assert store.stats() == {"count": 1, "bytes": 10}
    assert list((tmp_path / "tmp").iterdir()) == []


def test_put_file_streams_large_files(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    data = bytes(range(256)) * 20_000  # 5 MB, several read chunks
    source.write_bytes(data)
    store = LocalArtifactStore(tmp_path / "store")
    ref = store.put_file(source)
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert store.local_path(ref.sha256).read_bytes() == data


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_artifact_is_refused_naming_the_file(tmp_path: Path, damage: str) -> None:
    store = LocalArtifactStore(tmp_path)
    ref = store.put_bytes(b"model weights" * 100)
    path = store.root / "sha256" / ref.sha256[:2] / ref.sha256[2:]
    data = path.read_bytes()
    path.write_bytes(data[:-7] if damage == "truncate" else b"M" + data[1:])
    for read in (store.get_bytes, store.local_path):
        with pytest.raises(IntegrityError, match=str(path)):
            read(ref.sha256)
    store.put_bytes(b"model weights" * 100)  # storing the good bytes again repairs it
    assert store.get_bytes(ref.sha256) == data


def test_missing_and_malformed_names(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    with pytest.raises(NotFoundError, match="0" * 64):
        store.get_bytes("0" * 64)
    with pytest.raises(ValidationError, match="not a sha256"):
        store.get_bytes("../../etc/passwd")
    with pytest.raises(NotFoundError, match=r"nope\.bin"):
        store.put_file(tmp_path / "nope.bin")


def test_fsspec_store_verifies_like_the_local_one(tmp_path: Path) -> None:
    url = f"memory://driftline-test/{uuid.uuid4().hex}"
    store = open_artifact_store(url, cache_dir=str(tmp_path))
    assert isinstance(store, FsspecArtifactStore)
    ref = store.put_bytes(b"abc")
    assert store.get_bytes(ref.sha256) == b"abc"
    assert store.local_path(ref.sha256).read_bytes() == b"abc"
    assert store.stats() == {"count": 1, "bytes": 3}
    store.fs.pipe_file(store._key(ref.sha256), b"abd")
    with pytest.raises(IntegrityError, match="memory://"):
        store.get_bytes(ref.sha256)


def test_local_paths_and_file_urls_open_the_local_store(tmp_path: Path) -> None:
    assert isinstance(open_artifact_store(str(tmp_path)), LocalArtifactStore)
    assert isinstance(open_artifact_store(f"file://{tmp_path}"), LocalArtifactStore)
