"""Streaming drift detectors: feed one value at a time, or many at once.

Each detector follows river's contract (``update(x)`` returns the detector, then read
``drift_detected`` and ``warning_detected``; ``reset()`` starts afresh) and adds
``update_many(values)``, which returns the positions where drift was detected and gives
exactly the detections of an ``update`` loop, much faster::

    >>> import numpy as np
    >>> from driftline.drift import streaming
    >>> rng = np.random.default_rng(0)
    >>> stream = np.concatenate([rng.normal(0.0, 1.0, 500), rng.normal(3.0, 1.0, 500)])
    >>> streaming.PageHinkley().update_many(stream).tolist()
    [514]

========================  ================  ============  =========================
detector                  reads             warning zone  river counterpart
========================  ================  ============  =========================
:class:`ADWIN`            real values       no            ``drift.ADWIN``
:class:`PageHinkley`      real values       no            ``drift.PageHinkley``
:class:`CUSUM`            real values       no            none
:class:`KSWIN`            real values       no            ``drift.KSWIN``
:class:`DDM`              0/1 errors        yes           ``drift.binary.DDM``
:class:`EDDM`             0/1 errors        yes           ``drift.binary.EDDM``
:class:`HDDM_A`           values in [0, 1]  yes           ``drift.binary.HDDMA``
========================  ================  ============  =========================

All are implemented here (river is not a dependency); each class documents where and why it
departs from river's definition. When river is installed, :class:`ADWIN` hands its values to
the compiled window inside ``river.drift.ADWIN`` (same detections, faster per value than both
our Python version and river's own class); ``ADWIN(backend="python")`` keeps ours.

:class:`RealTimeDriftDetector` works on whole records instead: it compares a sliding window
with a reference using the batch engine (:func:`driftline.drift.compare`) every few records.
"""

from __future__ import annotations

from driftline.drift.streaming._base import InputKind, StreamingDetector
from driftline.drift.streaming._realtime import RealTimeDriftDetector, WindowCheck
from driftline.drift.streaming.adwin import ADWIN
from driftline.drift.streaming.cusum import CUSUM
from driftline.drift.streaming.ddm import DDM
from driftline.drift.streaming.eddm import EDDM
from driftline.drift.streaming.hddm_a import HDDM_A
from driftline.drift.streaming.kswin import KSWIN
from driftline.drift.streaming.page_hinkley import PageHinkley

__all__ = [
    "ADWIN",
    "CUSUM",
    "DDM",
    "EDDM",
    "HDDM_A",
    "KSWIN",
    "InputKind",
    "PageHinkley",
    "RealTimeDriftDetector",
    "StreamingDetector",
    "WindowCheck",
]
