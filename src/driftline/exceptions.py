"""The one error tree of driftline.

Every error raised on purpose by driftline derives from :class:`DriftlineError`, in a few
shallow families. A message names the object at fault and says what to do about it::

    DriftlineError
     +-- NotFoundError            an id, name, file or version that does not exist
     +-- ValidationError          input that is malformed or breaks a contract
     +-- ConflictError            a state clash: already exists, in use, wrong state
     |    +-- IncompatibleWorkspaceError   a workspace written by a newer driftline
     +-- IntegrityError           stored bytes or records that fail their hash or chain
     +-- DependencyMissingError   an optional extra is not installed
     +-- UnavailableError         a database, directory or endpoint that cannot be reached

The CLI maps each family to an exit code and the HTTP layer to a status code, each in one
table (:data:`EXIT_CODES`, :data:`HTTP_STATUS`), so the mapping is never decided twice.
"""

from __future__ import annotations

__all__ = [
    "EXIT_CODES",
    "HTTP_STATUS",
    "ConflictError",
    "DependencyMissingError",
    "DriftlineError",
    "IncompatibleWorkspaceError",
    "IntegrityError",
    "NotFoundError",
    "UnavailableError",
    "ValidationError",
    "exit_code_for",
    "http_status_for",
]


class DriftlineError(Exception):
    """Root of every error driftline raises on purpose."""


class NotFoundError(DriftlineError):
    """An id, name, file or version that does not exist."""


class ValidationError(DriftlineError, ValueError):
    """Input that is malformed or breaks a declared contract."""


class ConflictError(DriftlineError):
    """The request clashes with the current state."""


class IncompatibleWorkspaceError(ConflictError):
    """The workspace was written by a newer driftline than this one."""


class IntegrityError(DriftlineError):
    """Stored bytes or records fail their hash or hash chain."""


class DependencyMissingError(DriftlineError, ImportError):
    """An optional extra is not installed."""


class UnavailableError(DriftlineError):
    """A database, directory or endpoint that cannot be reached or written."""


# Exit 1 is left for "ran fine, found a problem" (a broken audit chain, a failed check);
# 2 is what click uses for usage errors, which are validation errors too.
EXIT_CODES: dict[type[DriftlineError], int] = {
    ValidationError: 2,
    NotFoundError: 3,
    ConflictError: 4,
    IntegrityError: 5,
    DependencyMissingError: 6,
    UnavailableError: 7,
}

HTTP_STATUS: dict[type[DriftlineError], int] = {
    ValidationError: 400,
    NotFoundError: 404,
    ConflictError: 409,
    IntegrityError: 500,
    DependencyMissingError: 501,
    UnavailableError: 503,
}


def _lookup(table: dict[type[DriftlineError], int], error: DriftlineError, default: int) -> int:
    for family in type(error).__mro__:
        if family in table:
            return table[family]
    return default


def exit_code_for(error: DriftlineError) -> int:
    """The CLI exit code for ``error``: its nearest family in :data:`EXIT_CODES`, else 1."""
    return _lookup(EXIT_CODES, error, 1)


def http_status_for(error: DriftlineError) -> int:
    """The HTTP status for ``error``: its nearest family in :data:`HTTP_STATUS`, else 500."""
    return _lookup(HTTP_STATUS, error, 500)
