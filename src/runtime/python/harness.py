"""Prepares executions inside a worker's Pyodide; never runs the user's code itself.

Isolation between calls is not this module's job: after every run the worker rewrites the whole
interpreter memory from the image it took at its reset point (runtime/reset.ts), so nothing a run
does in Python outlives it, and nothing here has to know what a run might have changed. What is
left to this module: compile the code, hand the runner a namespace, and refuse during runs what
would reach past the interpreter (raw memory through ctypes, processes, sockets) or watch later
runs (audit hooks).

The runner (runner.py) is a namespace of its own that runs the code and anything of the code's
(its repr, its exception's str, its tasks), called straight from JavaScript: a frame walk from
there finds nothing of this module.
"""

import ast
import builtins
import gc
import linecache
import os
import sys
import time
import types

USER_FILENAME = "<code>"
TRAMPOLINE_FILENAME = "<runner>"
_CO_COROUTINE = 0x80
# Audit events refused during a run: raw memory access (ctypes reaches every wasm function,
# JavaScript's among them) and reaching the harness's objects through the garbage collector;
# an audit hook of the code's own would outlive nothing, but would watch the harness's calls.
_REFUSED_EVENTS = ("ctypes.", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.addaudithook")
# Refused too, but harmless to try: processes (Emscripten's system() holds its own `require` of
# child_process, so without Node's permission model os.system would run a shell) and sockets.
_UNSUPPORTED_EVENTS = {
    "os.system": "processes", "os.exec": "processes", "os.posix_spawn": "processes", "os.spawn": "processes",
    "os.fork": "processes", "os.forkpty": "processes", "subprocess.Popen": "processes",
    "socket.connect": "network connections", "socket.bind": "network connections",
}
_URANDOM = os.urandom
_FROM_BYTES = int.from_bytes

# Filled in when the snapshot is made (see pool/snapshot.ts): the runner's, shims' and the
# compatibility modules' sources.
_RUNNER = _SHIMS = _COMPAT = None
_CODE = None  # their code objects (see _compile_parts)
_runner = None
_shim_ns = None
_active = False
_session_main = None
_network = False  # ALLOW_NETWORK: the `js` module with fetch is there (sandbox.ts)


def _audit(event, args):
    # sys.audit() lets code raise events of its own: nothing of them is trusted beyond its type.
    if not _active or type(event) is not str:
        return
    if event.startswith(_REFUSED_EVENTS):
        raise PermissionError(f"{event.split('/')[0]} is not available in this sandbox")
    if event in _UNSUPPORTED_EVENTS:
        what = _UNSUPPORTED_EVENTS[event]
        if _network and what == "network connections":
            raise PermissionError(f"{event} is not available in this sandbox (no raw sockets); for HTTP use `await pyodide.http.pyfetch(url)`")
        raise PermissionError(f"{event} is not available in this sandbox (no {what})")


# --- set-up -----------------------------------------------------------------------------------


def init(js_sleep):
    """Called once per worker after start-up, before its reset point; returns the runner's namespace."""
    global _runner, _shim_ns, _network
    os.environ.pop("_", None)  # set by the runtime to a host path
    import importlib.util

    _network = importlib.util.find_spec("js") is not None
    shims, compat, runner = _CODE
    _shim_ns = {"__name__": "__shims__", "__builtins__": builtins, "_wait": js_sleep}
    exec(shims, _shim_ns)
    time.sleep = _shim_ns["sleep"]
    for name, code in compat.items():
        exec(code, {"__name__": f"__{name}__", "__builtins__": builtins})
    runner_ns = {"__name__": "__runner__", "__builtins__": builtins, "USER_FILENAME": USER_FILENAME}
    exec(runner, runner_ns)
    _runner = runner_ns
    _guard_array_length()
    sys.addaudithook(_audit)
    return runner_ns


def _compile_parts():
    # Compiled when the harness is imported, which is when the snapshot is made: a worker restored
    # from it runs the code objects, and its start pays for no compiler (~20-40 ms, cold there).
    return (
        compile(_SHIMS, "<shims>", "exec"),
        {name: compile(source, f"<{name}>", "exec") for name, source in _COMPAT.items()},
        compile(_RUNNER, TRAMPOLINE_FILENAME, "exec"),
    )


def _guard_array_length():
    # Made now, so the class Pyodide caches for JavaScript arrays is the guarded one.
    from pyodide.ffi import to_js

    array_class = type(to_js([]))
    array_class.__setattr__ = _shim_ns["guard_length"](array_class.__setattr__)


def _scrub_api_references():
    # Importing pyodide_js (before the snapshot) left its loaders in the heap, each holding the
    # whole Pyodide API: file reads, package downloads, Node sockets. Unregistering the module
    # does not reach them. Done when the harness is imported (see the end of the harness source),
    # so a snapshot holds none: a full walk of the heap costs a worker's start ~10-15 ms.
    from _pyodide._importhook import JsLoader

    for obj in gc.get_referrers(JsLoader):
        if type(obj) is JsLoader:
            obj.jsproxy = None


def reseed():
    """After a reset: the memory image holds the generator state of the reset point, which every
    run would otherwise repeat. 256 bits from the OS (random.seed() alone reads 2.5 kB)."""
    random = sys.modules.get("random")
    if random is not None:
        random.seed(_FROM_BYTES(_URANDOM(32)))


# --- one run ----------------------------------------------------------------------------------


class Prepared:
    """A compiled run: the body, the last expression apart (or None), and, once begun, the
    namespace it runs in. is_async is read from JavaScript: a plain attribute, not a property."""

    __slots__ = ("body", "expr", "source", "body_async", "expr_async", "is_async", "ns")

    def __init__(self, body, expr, source):
        self.body = body
        self.expr = expr
        self.source = source
        self.body_async = bool(body.co_flags & _CO_COROUTINE)
        self.expr_async = bool(expr is not None and expr.co_flags & _CO_COROUTINE)
        self.is_async = self.body_async or self.expr_async
        self.ns = None


def prepare(source, limit=1 << 20):
    """Compile the code (last expression apart, like a REPL). Returns Prepared or a failure dict."""
    try:
        tree = ast.parse(source, USER_FILENAME, "exec")
        expr = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            expr = ast.Expression(tree.body.pop().value)
        flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        body = compile(tree, USER_FILENAME, "exec", flags=flags, dont_inherit=True)
        expr_code = compile(expr, USER_FILENAME, "eval", flags=flags, dont_inherit=True) if expr else None
    except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as exc:
        # The compiler's own exceptions: describing them runs no code of the user's.
        return _runner["describe"](exc, limit)
    return Prepared(body, expr_code, source)


def start(source, workdir, session=False, limit=1 << 20):
    """prepare() and begin() in one call from JavaScript (each crossing costs ~20-30 µs): the
    Prepared, with its namespace set, or prepare()'s failure dict."""
    prepared = prepare(source, limit)
    if type(prepared) is Prepared:
        prepared.ns = begin(prepared, workdir, session)
    return prepared


def begin(prepared, workdir, session=False):
    """Start a run in __main__ (a session's own, kept from call to call, in the directory it was
    left in). Returns its namespace."""
    global _active, _session_main
    linecache.cache[USER_FILENAME] = (len(prepared.source), None, prepared.source.splitlines(True), USER_FILENAME)
    if session:
        if _session_main is None:
            _session_main = types.ModuleType("__main__")
            _session_main.__dict__["__builtins__"] = builtins
            os.chdir(workdir)
        main = _session_main
        sys.modules["__main__"] = main
    else:
        main = sys.modules["__main__"]
    _active = True
    return main.__dict__


def finish():
    """After a run: nothing is put back here (the reset does that); guards off."""
    global _active
    _active = False
    linecache.cache.pop(USER_FILENAME, None)


def warm_imports(names):
    """Import the top-level modules of installed distributions, before the reset point is taken
    again: every run then finds them imported (numpy once per install, not once per call)."""
    import importlib
    import importlib.metadata as metadata

    imported = []
    for name in names:
        try:
            dist = metadata.distribution(name)
        except Exception:  # noqa: BLE001 - not installed as a distribution: nothing to import
            continue
        tops = (dist.read_text("top_level.txt") or "").split()
        if not tops:
            tops = sorted({
                f.parts[0].removesuffix(".py")
                for f in dist.files or ()
                if f.parts and not f.parts[0].endswith((".dist-info", ".data")) and (len(f.parts) > 1 or f.parts[0].endswith(".py"))
            })
        for top in tops:
            if not top.isidentifier() or top in sys.modules:
                continue
            try:
                importlib.import_module(top)
                imported.append(top)
            except BaseException:  # noqa: BLE001 - a package that fails to import still installs
                pass
    return imported
