"""Running scrapy crawls in-process, as many as needed, from ordinary (blocking) code.

Twisted's reactor cannot be restarted once stopped, so instead of ``CrawlerProcess`` (which starts and stops
it per crawl) the asyncio reactor runs for the life of the process in a daemon thread, and each crawl is
handed to it with ``CrawlerRunner``. The caller blocks on a future until the crawl is over. Ctrl-C asks the
crawl to stop (the spider closes, pipelines flush), waits for that at most ``STOP_GRACE`` seconds and is
then raised again in the caller. Each pipeline write is its own transaction, so what was recorded stays.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, wait
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler, CrawlerRunner
from scrapy.utils.reactor import install_reactor

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
STOP_GRACE = 5.0  # seconds Ctrl-C waits for the spider to close and the pipelines to flush
_lock = threading.Lock()
_thread: threading.Thread | None = None


def _reactor() -> Any:
    """The running reactor, started on first use in a daemon thread."""
    global _thread
    with _lock:
        if _thread is None:
            install_reactor(ASYNCIO_REACTOR)
            from twisted.internet import reactor

            running: Any = reactor
            _thread = threading.Thread(
                target=running.run, kwargs={"installSignalHandlers": False}, name="crawler-reactor", daemon=True
            )
            _thread.start()
    from twisted.internet import reactor

    return reactor


def run_spider(spider: type[Spider], settings: dict[str, Any], **arguments: Any) -> dict[str, Any]:
    """Run one crawl to its end; returns scrapy's stats. Exceptions from starting it are raised here."""
    reactor = _reactor()
    done: Future[dict[str, Any]] = Future()
    started: dict[str, Any] = {}

    def start() -> None:
        try:
            runner = CrawlerRunner(settings)
            crawler: Crawler = runner.create_crawler(spider)
            started.update(runner=runner, crawler=crawler)
            deferred = runner.crawl(crawler, **arguments)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting caller, who raises it
            done.set_exception(exc)
            return
        deferred.addCallbacks(
            lambda _: done.set_result(crawler.stats.get_stats() if crawler.stats else {}),
            lambda failure: done.set_exception(failure.value),
        )

    reactor.callFromThread(start)
    try:
        return _wait(done)
    except KeyboardInterrupt:
        runner = started.get("runner")
        if runner is not None:
            reactor.callFromThread(runner.stop)
            wait([done], timeout=STOP_GRACE)  # requests in flight may finish; then leave the daemon thread
        raise


def _wait(done: Future[dict[str, Any]]) -> dict[str, Any]:
    """The crawl's result. Waits in short slices: a signal may land on the reactor's thread, and the main
    thread only runs Python's handler (KeyboardInterrupt) when it wakes up."""
    while True:
        try:
            return done.result(timeout=0.2)
        except TimeoutError:
            continue
