"""The conformance suite every model flavor passes, one check per function.

A :class:`FlavorCase` is a flavor, a trained model, input rows, and what the model's own
library predicts for them. Each check in :data:`FLAVOR_CHECKS` takes a case and a scratch
directory and raises ``AssertionError`` (or the unexpected error) when the flavor breaks
its contract; :func:`check_flavor` runs them all. With pytest, parametrize over both::

    @pytest.mark.parametrize("check", FLAVOR_CHECKS, ids=lambda c: c.__name__)
    def test_flavor(case, check, tmp_path):
        check(case, tmp_path)
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from driftline.exceptions import NotFoundError, ValidationError
from driftline.registry.flavors import Flavor, LoadedModel, flavor_for

__all__ = [
    "FLAVOR_CHECKS",
    "FlavorCase",
    "check_bad_bytes",
    "check_concurrent_predict",
    "check_detect",
    "check_flavor",
    "check_from_file",
    "check_input_forms",
    "check_round_trip",
    "check_save_twice",
]

_GARBAGE = b"\x00\xffdriftline: these bytes are not a model\xfe\x01" * 4
_THREADS = 4


@dataclass(frozen=True, eq=False)
class FlavorCase:
    """One trained model, rows to predict on, and what its own library predicts for them.

    ``write_file(directory)`` writes the model the library's own way (``joblib.dump``,
    ``save_model``, ``torch.jit.save``, ...) and returns the file. ``file_expected`` and
    ``file_expected_proba`` are what the model read back from that file predicts when it
    differs from ``expected`` (a file cannot carry what driftline's meta adds, such as a
    torch output's class labels). ``atol`` is 0 for exact libraries, about 1e-5 for float32.

    Examples
    --------
    >>> import pickle, tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from driftline.registry.flavors import get_flavor
    >>> from driftline.testing.flavor_checks import FlavorCase, check_flavor
    >>> rng = np.random.default_rng(7)
    >>> X = rng.normal(size=(80, 3))
    >>> model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    >>> def write(directory):
    ...     path = directory / "model.pkl"
    ...     path.write_bytes(pickle.dumps(model))
    ...     return path
    >>> case = FlavorCase(
    ...     flavor=get_flavor("sklearn"), model=model, X=X, write_file=write,
    ...     expected=model.predict(X), expected_proba=model.predict_proba(X),
    ... )
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     check_flavor(case, Path(tmp))  # silent when the flavor keeps its contract
    """

    flavor: Flavor
    model: Any
    X: pd.DataFrame | np.ndarray
    expected: np.ndarray
    write_file: Callable[[Path], Path]
    expected_proba: np.ndarray | None = None
    file_expected: np.ndarray | None = None
    file_expected_proba: np.ndarray | None = None
    atol: float = 0.0


def check_detect(case: FlavorCase, tmp_path: Path) -> None:
    """The flavor detects its model, and :func:`flavor_for` picks this flavor for it."""
    _require(case.flavor.detect(case.model), f"{case.flavor.name} does not detect its model")
    chosen = flavor_for(case.model).name
    _require(chosen == case.flavor.name, f"flavor_for picked {chosen}, not {case.flavor.name}")


def check_round_trip(case: FlavorCase, tmp_path: Path) -> None:
    """save -> load predicts what the library predicts; the meta is JSON and complete."""
    saved = case.flavor.save(case.model)
    _require(isinstance(saved.data, bytes) and len(saved.data) > 0, "save gave no bytes")
    _require(json.loads(json.dumps(saved.meta)) == saved.meta, "meta is not JSON-ready")
    for key in ("flavor", "format", "library_version", "python_version", "has_proba"):
        _require(key in saved.meta, f"meta lacks {key!r}: {sorted(saved.meta)}")
    _require(saved.meta["flavor"] == case.flavor.name, f"meta names {saved.meta['flavor']!r}")
    loaded = case.flavor.load(saved.data, saved.meta)
    _require(loaded.flavor == case.flavor.name, f"loaded model says flavor {loaded.flavor!r}")
    _require(saved.meta["has_proba"] == loaded.has_proba, "meta has_proba differs from loaded")
    _same_predictions(loaded, case, case.expected, case.expected_proba, "save -> load")


def check_save_twice(case: FlavorCase, tmp_path: Path) -> None:
    """Saving twice and loading each gives the same predictions."""
    first, second = case.flavor.save(case.model), case.flavor.save(case.model)
    _require(first.meta == second.meta, "two saves of one model give different meta")
    for saved in (first, second):
        loaded = case.flavor.load(saved.data, saved.meta)
        _same_predictions(loaded, case, case.expected, case.expected_proba, "a second save")


def check_from_file(case: FlavorCase, tmp_path: Path) -> None:
    """A file written the library's own way registers unchanged and predicts the same."""
    path = case.write_file(tmp_path)
    saved = case.flavor.from_file(path)
    _require(saved.data == path.read_bytes(), "from_file changed the file's bytes")
    loaded = case.flavor.load(saved.data, saved.meta)
    expected = case.expected if case.file_expected is None else case.file_expected
    proba = case.expected_proba if case.file_expected_proba is None else case.file_expected_proba
    _same_predictions(loaded, case, expected, proba if loaded.has_proba else None, "from_file")


def check_bad_bytes(case: FlavorCase, tmp_path: Path) -> None:
    """Garbage, truncated or foreign bytes raise ValidationError naming the flavor."""
    name, saved = case.flavor.name, case.flavor.save(case.model)
    attempts = {
        "garbage bytes": (_GARBAGE, saved.meta),
        "truncated bytes": (saved.data[: len(saved.data) // 2], saved.meta),
        "another flavor's meta": (saved.data, {**saved.meta, "flavor": "not-" + name}),
    }
    for what, (data, meta) in attempts.items():
        _raises(ValidationError, name, what, functools.partial(case.flavor.load, data, meta))
    bad_file = tmp_path / f"damaged-{name}.model"
    bad_file.write_bytes(_GARBAGE)
    error = _raises(
        ValidationError, name, "a damaged file", lambda: case.flavor.from_file(bad_file)
    )
    _require(str(bad_file) in str(error), f"the from_file error does not name the file: {error}")
    missing = tmp_path / "missing.model"
    _raises(NotFoundError, str(missing), "a missing file", lambda: case.flavor.from_file(missing))


def check_concurrent_predict(case: FlavorCase, tmp_path: Path) -> None:
    """Predicting from four threads at once gives what predicting one call at a time gives."""
    saved = case.flavor.save(case.model)
    loaded = case.flavor.load(saved.data, saved.meta)
    chunks = _chunks(case.X, 8) * 3
    methods: list[Callable[[Any], np.ndarray]] = [loaded.predict]
    if loaded.has_proba:
        methods.append(loaded.predict_proba)
    for method in methods:
        sequential = [method(chunk) for chunk in chunks]
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            concurrent = list(pool.map(method, chunks))
        for i, (one, many) in enumerate(zip(sequential, concurrent, strict=True)):
            _close(many, one, case.atol, f"{method.__name__} on chunk {i} from {_THREADS} threads")


def check_input_forms(case: FlavorCase, tmp_path: Path) -> None:
    """A DataFrame, its 2-D array and a read-only copy predict alike; bad X is refused."""
    saved = case.flavor.save(case.model)
    loaded = case.flavor.load(saved.data, saved.meta)
    frame = case.X if isinstance(case.X, pd.DataFrame) else pd.DataFrame(case.X)
    array = frame.to_numpy()
    _close(loaded.predict(array), loaded.predict(frame), case.atol, "array vs DataFrame input")
    frozen = array.copy()
    frozen.flags.writeable = False  # what pandas 3's copy-on-write hands out
    _close(loaded.predict(frozen), loaded.predict(array), case.atol, "a read-only array")
    name = case.flavor.name
    wrong = {
        "a 1-D array": array[:, 0],
        "a list": array.tolist(),
        "no rows": array[:0],
        "one column too few": array[:, :-1],
    }
    for what, X in wrong.items():
        _raises(ValidationError, name, what, functools.partial(loaded.predict, X))
    if not loaded.has_proba:
        _raises(ValidationError, name, "predict_proba", lambda: loaded.predict_proba(frame))


FLAVOR_CHECKS: tuple[Callable[[FlavorCase, Path], None], ...] = (
    check_detect,
    check_round_trip,
    check_save_twice,
    check_from_file,
    check_bad_bytes,
    check_concurrent_predict,
    check_input_forms,
)


def check_flavor(case: FlavorCase, tmp_path: Path) -> None:
    """Run every check in :data:`FLAVOR_CHECKS` on ``case``."""
    for check in FLAVOR_CHECKS:
        check(case, tmp_path)


def _same_predictions(
    loaded: LoadedModel,
    case: FlavorCase,
    expected: np.ndarray,
    expected_proba: np.ndarray | None,
    how: str,
) -> None:
    _close(loaded.predict(case.X), expected, case.atol, f"predict after {how}")
    _require(
        loaded.has_proba == (expected_proba is not None),
        f"after {how}, has_proba is {loaded.has_proba} but the library "
        f"{'has' if expected_proba is not None else 'has no'} predict_proba",
    )
    if expected_proba is not None:
        proba = loaded.predict_proba(case.X)
        _close(proba, expected_proba, case.atol, f"predict_proba after {how}")
        classes = loaded.classes or []
        _require(len(classes) == proba.shape[1], f"{len(classes)} classes for {proba.shape}")


def _close(actual: np.ndarray, expected: np.ndarray, atol: float, what: str) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    _require(actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}")
    numeric = actual.dtype.kind in "fc" and expected.dtype.kind in "fc"
    if numeric and atol > 0:
        worst = float(np.max(np.abs(actual.astype(float) - expected.astype(float))))
        _require(worst <= atol, f"{what}: differs by up to {worst:.3g} (tolerance {atol})")
    else:
        mismatched = int(np.sum(actual != expected))
        _require(mismatched == 0, f"{what}: {mismatched} of {actual.size} values differ")


def _raises(kind: type[Exception], needle: str, what: str, call: Callable[[], Any]) -> Exception:
    try:
        call()
    except kind as exc:
        _require(needle in str(exc), f"{what}: the {kind.__name__} does not name {needle!r}: {exc}")
        return exc
    raise AssertionError(f"{what}: no {kind.__name__} was raised")


def _chunks(X: pd.DataFrame | np.ndarray, parts: int) -> list[Any]:
    bounds = np.linspace(0, len(X), parts + 1).astype(int)
    if isinstance(X, pd.DataFrame):
        return [X.iloc[a:b] for a, b in itertools.pairwise(bounds) if b > a]
    return [X[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)
