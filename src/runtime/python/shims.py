"""Functions put into the standard library, in a namespace of their own (a function's __globals__
must lead nowhere near the harness)."""
import time as _time


def sleep(secs):
    # Pyodide's time.sleep busy-waits and ignores the interrupt buffer; this waits on the task's
    # control word (Atomics.wait), so a timeout or cancel wakes it at once.
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    end = _time.monotonic() + secs
    while True:
        left = end - _time.monotonic()
        if left <= 0:
            return
        _wait(min(left, 0.25) * 1000)


_MAX_LENGTH = 1 << 20


def guard_length(set_attribute):
    def __setattr__(self, name, value):
        # `a.length = 2**24` on a JavaScript array is one allocation far past the worker's
        # JavaScript heap limit, which V8 cannot take back (the process aborts at the next GC).
        if type(name) is str and name == "length" and not (type(value) is int and 0 <= value <= _MAX_LENGTH):
            raise ValueError(f"a JavaScript array's length can be set only to an int up to {_MAX_LENGTH}")
        set_attribute(self, name, value)

    return __setattr__
