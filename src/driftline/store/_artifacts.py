"""Content-addressed artifact stores: bytes are named by their sha256 and checked on read.

Layout: ``sha256/ab/cdef...`` under the root, where ``ab`` is the first two hex digits.
A write lands atomically (temp file, fsync, rename) and a read that does not hash to its
name raises :class:`~driftline.exceptions.IntegrityError` naming the file: corrupted bytes
are never returned.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from driftline._optional import require
from driftline.exceptions import IntegrityError, NotFoundError, UnavailableError, ValidationError

__all__ = [
    "ArtifactRef",
    "ArtifactStore",
    "FsspecArtifactStore",
    "LocalArtifactStore",
    "open_artifact_store",
]

_CHUNK = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ArtifactRef:
    """Where a stored artifact lives and what it hashes to."""

    sha256: str
    size: int
    uri: str


class ArtifactStore(Protocol):
    """What every artifact store offers."""

    location: str

    def put_bytes(self, data: bytes) -> ArtifactRef: ...
    def put_file(self, path: str | os.PathLike[str]) -> ArtifactRef: ...
    def get_bytes(self, sha256: str) -> bytes: ...
    def local_path(self, sha256: str) -> Path: ...
    def exists(self, sha256: str) -> bool: ...
    def stats(self) -> dict[str, int]: ...


def _relpath(sha256: str) -> str:
    if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256):
        raise ValidationError(f"{sha256!r} is not a sha256 digest (64 lowercase hex digits)")
    return f"sha256/{sha256[:2]}/{sha256[2:]}"


def _hash_stream(stream: BinaryIO, sink: BinaryIO | None = None) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if sink is not None:
            sink.write(chunk)
    return digest.hexdigest(), size


class LocalArtifactStore:
    """Artifacts in a local directory (the embedded default: ``HOME/artifacts``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.location = str(self.root)

    def put_bytes(self, data: bytes) -> ArtifactRef:
        """Store ``data``; storing the same bytes twice keeps one copy."""
        sha = hashlib.sha256(data).hexdigest()
        return self._commit(sha, len(data), lambda sink: sink.write(data))

    def put_file(self, path: str | os.PathLike[str]) -> ArtifactRef:
        """Store a file's bytes, streaming (the file may be larger than memory)."""
        source = Path(path)
        if not source.is_file():
            raise NotFoundError(f"artifact source {str(source)!r} is not a readable file")
        tmp = self._temp()
        try:
            with source.open("rb") as stream, tmp.open("wb") as sink:
                sha, size = _hash_stream(stream, sink)
                _sync(sink)
            return self._place(tmp, sha, size)
        finally:
            tmp.unlink(missing_ok=True)

    def get_bytes(self, sha256: str) -> bytes:
        """The artifact's bytes, after checking they hash to ``sha256``."""
        path = self._existing(sha256)
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise _corrupt(path, sha256)
        return data

    def local_path(self, sha256: str) -> Path:
        """A verified local path to the artifact, for readers that want a file name."""
        path = self._existing(sha256)
        with path.open("rb") as stream:
            actual, _ = _hash_stream(stream)
        if actual != sha256:
            raise _corrupt(path, sha256)
        return path

    def exists(self, sha256: str) -> bool:
        """Whether an artifact named ``sha256`` is stored (its bytes are not checked)."""
        return (self.root / _relpath(sha256)).is_file()

    def stats(self) -> dict[str, int]:
        """Number of artifacts and their total size in bytes."""
        count = size = 0
        for path in self._files():
            count += 1
            size += path.stat().st_size
        return {"count": count, "bytes": size}

    def _files(self) -> Iterator[Path]:
        base = self.root / "sha256"
        return (p for p in base.glob("??/*") if p.is_file()) if base.is_dir() else iter(())

    def _existing(self, sha256: str) -> Path:
        path = self.root / _relpath(sha256)
        if not path.is_file():
            raise NotFoundError(f"artifact {sha256} is not in the store at {self.location}")
        return path

    def _temp(self) -> Path:
        tmpdir = self.root / "tmp"
        try:
            tmpdir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=tmpdir, prefix="put-")
        except OSError as exc:
            raise UnavailableError(
                f"cannot write to the artifact store {self.location!r}: {exc.strerror}"
            ) from exc
        os.close(fd)
        return Path(name)

    def _commit(self, sha: str, size: int, write: Any) -> ArtifactRef:
        if self._intact(sha):
            return self._ref(sha, size)
        tmp = self._temp()
        try:
            with tmp.open("wb") as sink:
                write(sink)
                _sync(sink)
            return self._place(tmp, sha, size)
        finally:
            tmp.unlink(missing_ok=True)

    def _place(self, tmp: Path, sha: str, size: int) -> ArtifactRef:
        final = self.root / _relpath(sha)
        if not self._intact(sha):
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
            _sync_dir(final.parent)
        return self._ref(sha, size)

    def _intact(self, sha: str) -> bool:
        # An existing but damaged copy is replaced by the good bytes being written now.
        try:
            self.local_path(sha)
        except (NotFoundError, IntegrityError):
            return False
        return True

    def _ref(self, sha: str, size: int) -> ArtifactRef:
        return ArtifactRef(
            sha256=sha, size=size, uri=(self.root / _relpath(sha)).resolve().as_uri()
        )


class FsspecArtifactStore:
    """Artifacts behind an fsspec URL (``s3://bucket/prefix`` with the ``s3`` extra).

    Object stores write an object atomically, so a put is a single ``pipe``; reads are
    verified like the local store's. ``local_path`` keeps verified copies in ``cache_dir``.
    """

    def __init__(self, url: str, *, cache_dir: str | os.PathLike[str] | None = None) -> None:
        fsspec = require("fsspec", "s3", purpose=f"the artifact store {url!r}")
        self.location = url
        self.fs, self.base = fsspec.core.url_to_fs(url)
        self.cache_dir = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="dl-art-"))

    def put_bytes(self, data: bytes) -> ArtifactRef:
        """Store ``data``; storing the same bytes twice keeps one copy."""
        sha = hashlib.sha256(data).hexdigest()
        key = self._key(sha)
        if not self.fs.exists(key):
            self.fs.pipe_file(key, data)
        return ArtifactRef(sha256=sha, size=len(data), uri=self._uri(key))

    def put_file(self, path: str | os.PathLike[str]) -> ArtifactRef:
        """Store a file's bytes."""
        source = Path(path)
        if not source.is_file():
            raise NotFoundError(f"artifact source {str(source)!r} is not a readable file")
        return self.put_bytes(source.read_bytes())

    def get_bytes(self, sha256: str) -> bytes:
        """The artifact's bytes, after checking they hash to ``sha256``."""
        key = self._key(sha256)
        if not self.fs.exists(key):
            raise NotFoundError(f"artifact {sha256} is not in the store at {self.location}")
        data: bytes = self.fs.cat_file(key)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise _corrupt(self._uri(key), sha256)
        return data

    def local_path(self, sha256: str) -> Path:
        """A verified local copy of the artifact."""
        target = self.cache_dir / _relpath(sha256)
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=target.parent)
            with os.fdopen(fd, "wb") as sink:
                sink.write(self.get_bytes(sha256))
            os.replace(name, target)
        return LocalArtifactStore(self.cache_dir).local_path(sha256)

    def exists(self, sha256: str) -> bool:
        """Whether an artifact named ``sha256`` is stored."""
        return bool(self.fs.exists(self._key(sha256)))

    def stats(self) -> dict[str, int]:
        """Number of artifacts and their total size in bytes."""
        prefix = f"{self.base}/sha256"
        if not self.fs.exists(prefix):
            return {"count": 0, "bytes": 0}
        sizes = [info["size"] for info in self.fs.find(prefix, detail=True).values()]
        return {"count": len(sizes), "bytes": int(sum(sizes))}

    def _key(self, sha256: str) -> str:
        return f"{self.base}/{_relpath(sha256)}"

    def _uri(self, key: str) -> str:
        return str(self.fs.unstrip_protocol(key))


def open_artifact_store(location: str, *, cache_dir: str | None = None) -> ArtifactStore:
    """A local store for a path or ``file://`` URL, an fsspec store for any other URL."""
    if "://" in location and not location.startswith("file://"):
        return FsspecArtifactStore(location, cache_dir=cache_dir)
    return LocalArtifactStore(location.removeprefix("file://"))


def _corrupt(where: Path | str, sha256: str) -> IntegrityError:
    return IntegrityError(
        f"artifact file {str(where)!r} does not hash to {sha256}: it was truncated or changed "
        "after it was stored. It was not used; restore it from a backup or register it again."
    )


def _sync(stream: BinaryIO) -> None:
    stream.flush()
    os.fsync(stream.fileno())


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
