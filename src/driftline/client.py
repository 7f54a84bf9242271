"""The Python client of driftline's serving replicas: ``Client(endpoints=[...], strategy=...)``.

It runs the same balancer as ``driftline gateway`` (health checks, passive ejection, circuit
breaker, retries on another replica) inside the calling process, with no gateway in between.
"""

from __future__ import annotations

from driftline.gateway.client import Client

__all__ = ["Client"]
