"""Read an untrusted XGBoost or LightGBM model file in a child process first.

Both libraries parse models in C++, and some damaged files that are well-formed on the
surface kill the whole process instead of raising: XGBoost segfaults predicting with a split
on a feature index past the model's width, LightGBM calls ``std::terminate`` from inside an
OpenMP region when a tree lacks a field. ``from_file`` reads a user's file, so after the
flavor's structure check it has a short-lived child process load the model and predict two
rows (zeros, and all missing) through the library's C API (ctypes, no Python package import,
so it takes milliseconds); only a file the child survived is loaded in this process. Bytes
the registry has already accepted are hash-checked before loading and skip this step.
"""

from __future__ import annotations

import signal
import subprocess
import sys

from driftline.exceptions import UnavailableError, ValidationError

__all__ = ["probe"]

_TIMEOUT_SECONDS = 120.0
_CANNOT_PROBE = 3  # the child's exit status when the library lacks the C functions

_CHILD = r"""
import ctypes, math, sys

def check(rc, last_error):
    if rc != 0:
        sys.stdout.write(last_error().decode("utf-8", "replace"))
        sys.exit(1)

def xgboost(lib, data):
    u64 = ctypes.c_uint64
    lib.XGBGetLastError.restype = ctypes.c_char_p
    err = lib.XGBGetLastError
    booster, dmat, n = ctypes.c_void_p(), ctypes.c_void_p(), u64()
    check(lib.XGBoosterCreate(None, u64(0), ctypes.byref(booster)), err)
    check(lib.XGBoosterLoadModelFromBuffer(booster, data, u64(len(data))), err)
    check(lib.XGBoosterGetNumFeature(booster, ctypes.byref(n)), err)
    width = max(int(n.value), 1)
    rows = (ctypes.c_float * (2 * width))(*([0.0] * width + [math.nan] * width))
    check(lib.XGDMatrixCreateFromMat(rows, u64(2), u64(width), ctypes.c_float(math.nan),
                                     ctypes.byref(dmat)), err)
    out_len, out = u64(), ctypes.POINTER(ctypes.c_float)()
    check(lib.XGBoosterPredict(booster, dmat, 0, 0, 0, ctypes.byref(out_len),
                               ctypes.byref(out)), err)

def lightgbm(lib, data):
    lib.LGBM_GetLastError.restype = ctypes.c_char_p
    err = lib.LGBM_GetLastError
    booster, iters, n = ctypes.c_void_p(), ctypes.c_int(), ctypes.c_int()
    check(lib.LGBM_BoosterLoadModelFromString(ctypes.c_char_p(data), ctypes.byref(iters),
                                              ctypes.byref(booster)), err)
    check(lib.LGBM_BoosterGetNumFeature(booster, ctypes.byref(n)), err)
    width = max(int(n.value), 1)
    rows = (ctypes.c_double * (2 * width))(*([0.0] * width + [math.nan] * width))
    size = ctypes.c_int64()
    check(lib.LGBM_BoosterCalcNumPredict(booster, 2, 0, 0, -1, ctypes.byref(size)), err)
    out = (ctypes.c_double * max(int(size.value), 1))()
    check(lib.LGBM_BoosterPredictForMat(booster, rows, 1, 2, width, 1, 0, 0, -1,
                                        ctypes.c_char_p(b""), ctypes.byref(size), out), err)

kind, path = sys.argv[1], sys.argv[2]
try:
    run = xgboost if kind == "xgboost" else lightgbm
    run(ctypes.CDLL(path), sys.stdin.buffer.read())
except (AttributeError, OSError):  # a library without these C functions: cannot probe
    sys.exit(3)
"""


def probe(kind: str, library_path: str, data: bytes) -> None:
    """Raise ValidationError unless a child process can load ``data`` and predict with it."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _CHILD, kind, library_path],
            input=data,
            capture_output=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ValidationError(
            f"the {kind} library did not finish reading the model in {_TIMEOUT_SECONDS:.0f} s"
        ) from exc
    except OSError as exc:
        raise UnavailableError(
            f"cannot start a child Python ({sys.executable!r}) to check the model: {exc}"
        ) from exc
    if done.returncode in (0, _CANNOT_PROBE):  # cannot probe: the in-process load decides
        return
    if done.returncode < 0:
        raise ValidationError(
            f"the {kind} library crashed ({_signal_name(-done.returncode)}) reading "
            "the model: the file is damaged or is not a model of this library"
        )
    detail = done.stdout.decode("utf-8", "replace").strip().splitlines()
    if not detail:  # the child itself failed (no C API message): show its last stderr line
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
    raise ValidationError(f"the {kind} library cannot read the model: {' '.join(detail[:1])}")


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
