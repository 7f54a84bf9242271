"""Active health checks for the gateway: GET the health path of every upstream, on a timer."""

from __future__ import annotations

import asyncio
import logging

import httpx

from driftline.gateway._attempts import describe_error
from driftline.gateway.balancer import Balancer

__all__ = ["HealthChecker"]

_log = logging.getLogger(__name__)


class HealthChecker:
    """Checks every upstream of ``balancer`` with ``transport`` and reports to the balancer.

    The thresholds, path, timeout and interval come from ``balancer.health``. Tests call
    :meth:`check_once`; the gateway runs :meth:`run` as a background task.

    >>> import asyncio, httpx
    >>> from driftline.gateway.policies import HealthCheck
    >>> def replica(request):
    ...     return httpx.Response(200 if request.url.host == "a" else 503)
    >>> balancer = Balancer(["http://a", "http://b"], health=HealthCheck(unhealthy_threshold=1))
    >>> checker = HealthChecker(balancer, httpx.MockTransport(replica))
    >>> asyncio.run(checker.check_once())
    {'http://a': True, 'http://b': False}
    >>> balancer.available()
    ['http://a']
    """

    def __init__(self, balancer: Balancer, transport: httpx.AsyncBaseTransport) -> None:
        self.balancer = balancer
        self.transport = transport

    async def probe(self, url: str) -> tuple[bool, str]:
        """One check of ``url``: (passed, what went wrong)."""
        config = self.balancer.health
        timeout = httpx.Timeout(config.timeout).as_dict()
        request = httpx.Request("GET", url + config.path, extensions={"timeout": timeout})
        try:
            async with asyncio.timeout(config.timeout):
                response = await self.transport.handle_async_request(request)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
        except (httpx.HTTPError, TimeoutError) as exc:
            return False, f"health check: {describe_error(exc)}"
        if 200 <= response.status_code < 300:
            return True, ""
        return False, f"health check {config.path} answered {response.status_code}"

    async def check_once(self) -> dict[str, bool]:
        """Check every upstream at once; report and return who passed."""
        urls = self.balancer.urls
        results = await asyncio.gather(*(self.probe(url) for url in urls))
        for url, (ok, detail) in zip(urls, results, strict=True):
            self.balancer.report_health(url, ok, detail)
        return {url: ok for url, (ok, _) in zip(urls, results, strict=True)}

    async def run(self) -> None:
        """Check forever, every ``balancer.health.interval`` seconds (cancel to stop)."""
        while True:
            try:
                await self.check_once()
            except Exception:
                # A bug here must not freeze every upstream's health where it stands.
                _log.exception("health check round failed; trying again next interval")
            await asyncio.sleep(self.balancer.health.interval)
