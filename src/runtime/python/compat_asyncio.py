"""asyncio.run, loop.run_until_complete and asyncio.Runner on a blocking event loop of their own.

Pyodide's loop (WebLoop) lives on JavaScript's event loop, which cannot turn while Python code
runs, so its run_until_complete cannot block. This loop can, for coroutines whose awaits are
Python's own (sleep, gather, queues, locks, timeouts): when nothing is ready it sleeps until the
next timer with time.sleep, which the run's stop wakes (the time limit holds). A coroutine that
waits on JavaScript (pyfetch, a JS promise) would wait forever: that is refused with a pointer to
top-level await, which runs on WebLoop. Not chosen: stack switching (JSPI), which on Node 20 is
off unless V8 runs with --experimental-wasm-stack-switching."""
import asyncio as _asyncio
import time as _time
from asyncio import base_events as _base_events
from asyncio import events as _events

HINT = (
    "this coroutine waits on JavaScript (the host's event loop), which asyncio.run() cannot drive in this sandbox: "
    "use top-level await instead (end the code with `await main()` rather than `asyncio.run(main())`)"
)


class _Clock:
    """The selector of a loop without file descriptors: waiting is sleeping until the next timer."""

    def select(self, timeout):
        if timeout is None:
            raise RuntimeError(HINT)
        if timeout > 0:
            _time.sleep(timeout)  # the sandbox's sleep: woken by a stop
        return []

    def close(self):
        pass


class BlockingLoop(_base_events.BaseEventLoop):
    def __init__(self):
        super().__init__()
        self._selector = _Clock()

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass

    def run_forever(self):
        with _aside():
            super().run_forever()

    def run_until_complete(self, future):
        if _asyncio.isfuture(future) and future.get_loop() is not self:
            raise RuntimeError(f"the awaitable belongs to another event loop; {HINT}")
        with _aside():
            return super().run_until_complete(future)


class _aside:
    """WebLoop counts as running for the whole call: it steps aside while a blocking loop runs."""

    def __enter__(self):
        self.outer = _events._get_running_loop()
        _events._set_running_loop(None)

    def __exit__(self, *exc):
        _events._set_running_loop(self.outer)


class Runner(_asyncio.Runner):
    def __init__(self, *, debug=None, loop_factory=None):
        # With a factory the Runner never calls set_event_loop, so WebLoop stays the event loop.
        super().__init__(debug=debug, loop_factory=loop_factory or BlockingLoop)

    def run(self, coro, *, context=None):
        with _aside():
            return super().run(coro, context=context)

    def close(self):
        # Cancelling the tasks left gathers them, and gather binds to the running loop.
        with _aside():
            super().close()


def run(main, *, debug=None, loop_factory=None):
    with Runner(debug=debug, loop_factory=loop_factory) as runner:
        return runner.run(main)


def _webloop_run_until_complete(self, future):
    """WebLoop's (asyncio.get_event_loop().run_until_complete): the work on a loop of its own."""
    loop = BlockingLoop()
    try:
        return loop.run_until_complete(future)
    finally:
        loop.close()


def _install():
    from pyodide.webloop import WebLoop

    WebLoop.run_until_complete = _webloop_run_until_complete
    _asyncio.run = run
    _asyncio.Runner = Runner
    _asyncio.runners.run = run
    _asyncio.runners.Runner = Runner
    _asyncio.new_event_loop = BlockingLoop


_install()
