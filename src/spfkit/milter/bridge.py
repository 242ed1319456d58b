"""One asyncio loop in its own thread, for libmilter's threads to run coroutines on.

libmilter (through pymilter) calls back from one thread per connection; every check must still
run on *one* event loop, so that all of them share one resolver and its cache (asyncio objects
belong to one loop). :meth:`LoopThread.run` hands a coroutine to the loop
(``asyncio.run_coroutine_threadsafe``) and waits at most ``timeout`` seconds: a check that
overruns is cancelled and the caller gets :class:`TimeoutError`, so no stalled DNS server
holds a connection past its deadline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """A daemon thread running one event loop until :meth:`stop`."""

    def __init__(self, name: str = "spfkit-milter-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started = threading.Event()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(self._started.set)
        self.loop.run_forever()

    def start(self) -> LoopThread:
        self._thread.start()
        self._started.wait()
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """``coro``'s result on the loop; TimeoutError (and ``coro`` cancelled) after ``timeout``."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no result within {timeout:g} s") from None

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()
