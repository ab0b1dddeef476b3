"""Prepares and cleans up executions inside a worker's Pyodide.

The worker (JavaScript) calls these functions; user code never runs below them. It runs from the
small trampoline at the end of this file instead, so a frame walk from user code (``sys._getframe``,
a traceback) finds the trampoline and nothing of this module.

Between runs the interpreter is put back: fresh ``__main__``, builtins, sys, os.environ, the working
directory and pending asyncio work. What cannot be put back marks the worker for replacement:
CPython's dict and type watchers (installed through ctypes) report any change to a module or class
that existed before the run, at no cost to runs that change nothing.
"""

import ast
import asyncio
import builtins
import ctypes
import functools as _functools
import linecache
import os
import sys
import time
import traceback
import types

USER_FILENAME = "<code>"
TRAMPOLINE_FILENAME = "<runner>"
_CO_COROUTINE = 0x80
_SYS_ATTRS = (
    "modules", "path", "meta_path", "path_hooks", "path_importer_cache", "displayhook", "excepthook",
    "breakpointhook", "unraisablehook", "stdin", "stdout", "stderr", "argv", "dont_write_bytecode",
)
_SYS_LISTS = ("path", "meta_path", "path_hooks", "argv")
# Audit events refused during a run: raw memory access (ctypes) and reaching arbitrary objects
# through the garbage collector would undo every other guard here, and an audit hook of the
# user's would watch the runs after it.
_REFUSED_EVENTS = ("ctypes.", "gc.get_objects", "gc.get_referrers", "gc.get_referents", "sys.addaudithook")
# Refused too, but harmless to try: processes (Emscripten's system() holds its own `require` of
# child_process, so without Node's permission model os.system would run a shell) and sockets.
_UNSUPPORTED_EVENTS = {
    "os.system": "processes", "os.exec": "processes", "os.posix_spawn": "processes", "os.spawn": "processes",
    "os.fork": "processes", "os.forkpty": "processes", "subprocess.Popen": "processes",
    "socket.connect": "network connections", "socket.bind": "network connections",
}

# PyDict_WatchEvent: ADDED, MODIFIED, DELETED, CLONED, CLEARED, DEALLOCATED
_DICT_ADDED, _DICT_MODIFIED, _DICT_DEALLOCATED = 0, 1, 5
_CODE_RUNNERS = (exec, eval, compile, __import__, builtins.breakpoint)


class _Run:
    """What the current run did that matters for cleanup."""

    def __init__(self):
        self.active = False
        self.imported = []
        self.task = None
        self.taint = None

    def mark(self, reason):
        if self.active and self.taint is None:
            self.taint = reason


_run = _Run()
_in_callback = False  # our own ctypes calls inside a watcher are not the user's
_state = None
_run_async = None
_shim_ns = None
_watchers = None


class _State:
    """Everything a run may change, captured when the worker is clean."""

    def __init__(self, trampoline_ns):
        self.builtins = dict(builtins.__dict__)
        self.sys_attrs = {name: getattr(sys, name) for name in _SYS_ATTRS if hasattr(sys, name)}
        self.sys_lists = {name: list(getattr(sys, name)) for name in _SYS_LISTS}
        self.importer_cache = dict(sys.path_importer_cache)
        self.recursion_limit = sys.getrecursionlimit()
        self.int_max_str_digits = sys.get_int_max_str_digits()
        self.environ = dict(os.environ)
        self.cwd = os.getcwd()
        self.main = sys.modules["__main__"]
        self.loop = asyncio.get_event_loop()
        self.loop_attrs = dict(vars(self.loop))
        self.trampoline_ns = trampoline_ns
        self.modules = {}


# --- watchers ---------------------------------------------------------------------------------

_DICT_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.py_object, ctypes.c_void_p, ctypes.c_void_p)
_TYPE_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.py_object)


class _Watchers:
    """CPython's dict and type watchers, reached through ctypes (the C API has no Python binding)."""

    def __init__(self):
        api = ctypes.pythonapi
        api.PyDict_AddWatcher.argtypes = [_DICT_CB]
        api.PyDict_AddWatcher.restype = ctypes.c_int
        api.PyDict_Watch.argtypes = [ctypes.c_int, ctypes.py_object]
        api.PyDict_Watch.restype = ctypes.c_int
        api.PyType_AddWatcher.argtypes = [_TYPE_CB]
        api.PyType_AddWatcher.restype = ctypes.c_int
        api.PyType_Watch.argtypes = [ctypes.c_int, ctypes.py_object]
        api.PyType_Watch.restype = ctypes.c_int
        self._api = api
        self._dict_cb = _DICT_CB(_on_dict_event)  # kept alive: C holds the pointer
        self._type_cb = _TYPE_CB(_on_type_event)
        self.dict_id = api.PyDict_AddWatcher(self._dict_cb)
        self.type_id = api.PyType_AddWatcher(self._type_cb)
        self.names = {}  # id(dict) -> module name, for messages
        self.inner = set()  # ids of the tables and caches inside modules

    def watch_module(self, name, module):
        d = getattr(module, "__dict__", None)
        if type(d) is not dict or id(d) in self.names:
            return
        self.watch_dict(name, d)
        for key, value in list(d.items()):
            if isinstance(value, type):
                if getattr(value, "__module__", None) == name:
                    self._api.PyType_Watch(self.type_id, value)
            elif type(value) is dict:
                # A module's own tables and caches (re._cache, encodings._cache, copyreg's):
                # libraries fill them as they go, so only code planted there counts.
                self.watch_dict(f"{name}.{key}", value, inner=True)
            elif not isinstance(value, (types.ModuleType, types.FunctionType, types.BuiltinFunctionType)):
                # A module-level object's attributes (json._default_encoder.encode) are as much a
                # part of the library as the module's own.
                inner = getattr(value, "__dict__", None) if _has_instance_dict(value) else None
                if type(inner) is dict:
                    self.watch_dict(f"{name}.{key}", inner)

    def watch_dict(self, name, d, inner=False):
        if id(d) not in self.names:
            self.names[id(d)] = name
            if inner:
                self.inner.add(id(d))
            self._api.PyDict_Watch(self.dict_id, d)


_instance_dict_types = {}


def _has_instance_dict(value):
    kind = type(value)
    known = _instance_dict_types.get(kind)
    if known is None:
        try:
            known = "__dict__" in dir(kind) and not isinstance(value, type)
        except Exception:  # noqa: BLE001
            known = False
        _instance_dict_types[kind] = known
    return known


# Keys the interpreter itself adds to a module while a run uses it.
_BENIGN_KEYS = frozenset({"__warningregistry__"})


def _on_dict_event(event, d, key_ptr, value_ptr):
    # Called before the change, so d[key] still holds the old value.
    global _in_callback
    if not _run.active or event == _DICT_DEALLOCATED or _run.taint is not None:
        return 0
    _in_callback = True
    try:
        name = _watchers.names.get(id(d), "?")
        key = ctypes.cast(key_ptr, ctypes.py_object).value if key_ptr else None
        if key in _BENIGN_KEYS:
            return 0
        new = ctypes.cast(value_ptr, ctypes.py_object).value if value_ptr else None
        where = f"{name}.{key}" if isinstance(key, str) else name
        if id(d) in _watchers.inner:
            if event in (_DICT_ADDED, _DICT_MODIFIED) and _carries_code(new):
                _run.mark(f"the code put its own code into {where}")
            return 0
        if event == _DICT_ADDED:
            # The import system binds a submodule on its package: that is not a patch.
            if isinstance(new, types.ModuleType) and sys.modules.get(f"{name}.{key}") is new:
                return 0
            if _carries_code(new):
                _run.mark(f"the code added {where}")
        elif event == _DICT_MODIFIED:
            old = d.get(key)
            # Libraries cache plain data in their globals (tempfile.tempdir); replacing one of
            # their functions, classes or objects with something else is a patch.
            if _carries_code(new) or (not _is_plain_data(old) and new is not old):
                _run.mark(f"the code replaced {where}")
        else:
            _run.mark(f"the code removed {where}" if key is not None else f"the code cleared {name}")
    except BaseException:  # noqa: BLE001 - a watcher that raises would break the change it reports
        _run.mark("the code changed a module")
    finally:
        _in_callback = False
    return 0


_PLAIN = (type(None), bool, int, float, complex, str, bytes, tuple, frozenset)


def _is_plain_data(value):
    return type(value) in _PLAIN


def _carries_code(value, depth=0):
    """Whether a value would run code the user wrote if a library later called or used it."""
    if depth > 3:
        return False
    if isinstance(value, (types.FunctionType, types.CodeType)):
        code = getattr(value, "__code__", value)
        return code.co_filename == USER_FILENAME or getattr(value, "__module__", None) == "__main__"
    if isinstance(value, types.MethodType):
        return _carries_code(value.__func__, depth + 1) or _carries_code(value.__self__, depth + 1)
    if isinstance(value, type):
        return value.__module__ == "__main__"
    if type(value).__module__ == "__main__":
        return True
    if isinstance(value, _functools.partial):
        return value.func in _CODE_RUNNERS or any(
            _carries_code(v, depth + 1) for v in (value.func, *value.args, *value.keywords.values())
        )
    if isinstance(value, (list, tuple, set, frozenset)) and len(value) < 64:
        return any(_carries_code(v, depth + 1) for v in value)
    if isinstance(value, dict) and len(value) < 64:
        return any(_carries_code(v, depth + 1) for v in value.values())
    return callable(value) and any(value is runner for runner in _CODE_RUNNERS)


def _on_type_event(cls):
    try:
        if _run.active:
            _run.mark(f"the code changed class {cls.__module__}.{cls.__qualname__}")
    except BaseException:  # noqa: BLE001
        _run.mark("a class was changed")
    return 0


def _audit(event, args):
    if _in_callback:
        return
    if event == "import":
        # Recorded outside runs too: the harness's own imports (a traceback's) are legitimate.
        _run.imported.append(args[0])
        return
    if not _run.active:
        return
    if event.startswith(_REFUSED_EVENTS):
        _run.mark(f"the code tried {event}")
        raise PermissionError(f"{event.split('/')[0]} is not available in this sandbox")
    if event in _UNSUPPORTED_EVENTS:
        raise PermissionError(f"{event} is not available in this sandbox (no {_UNSUPPORTED_EVENTS[event]})")
    try:
        if event == "object.__setattr__" or event == "object.__delattr__":
            # CPython audits changes to a function's __code__ and defaults.
            target = args[0]
            if not isinstance(target, types.FunctionType):
                return  # classes: the type watcher sees changes to those that existed before
            module = getattr(target, "__module__", "__main__")
            if module != "__main__" and (module in _state.modules or module == "__runner__"):
                _run.mark(f"the code changed {getattr(target, '__qualname__', '?')}.{args[1]}")
    except BaseException:  # noqa: BLE001 - an audit hook that raises aborts the audited operation
        pass


# --- set-up -----------------------------------------------------------------------------------


def init(js_sleep):
    """Called once per worker after start-up; returns the trampoline's namespace."""
    global _state, _watchers, _run_async, _shim_ns
    _scrub_api_references()
    os.environ.pop("_", None)  # set by the runtime to a host path
    # Functions put into the standard library live in namespaces of their own: a function's
    # __globals__ must lead nowhere near this module.
    _shim_ns = {"__name__": "__shims__", "__builtins__": builtins, "_wait": js_sleep}
    exec(compile(_SHIMS, "<shims>", "exec"), _shim_ns)
    time.sleep = _shim_ns["sleep"]
    trampoline_ns = {"__name__": "__runner__", "__builtins__": builtins}
    exec(compile(_TRAMPOLINE, TRAMPOLINE_FILENAME, "exec"), trampoline_ns)
    _run_async = trampoline_ns["run_async"]
    _state = _State(trampoline_ns)
    _watchers = _Watchers()
    _state.registries = _Registries()
    rebase()
    sys.addaudithook(_audit)
    return trampoline_ns


def _scrub_api_references():
    # Importing pyodide_js (before the snapshot) left its loaders in the heap, each holding the
    # whole Pyodide API: file reads, package downloads, Node sockets. Unregistering the module
    # does not reach them.
    import gc

    from _pyodide._importhook import JsLoader

    for obj in gc.get_objects():
        if isinstance(obj, JsLoader):
            obj.jsproxy = None


class _Registries:
    """The codec search path and cache, which live in the interpreter (not in any module) and
    which a run can add to through codecs.register: restored after every run."""

    def __init__(self):
        import codecs
        import encodings
        import gc

        utf8 = codecs.lookup("utf-8")
        self.path = next((o for o in gc.get_objects() if type(o) is list and encodings.search_function in o), None)
        self.cache = next((o for o in gc.get_referrers(utf8) if type(o) is dict and o.get("utf-8") is utf8), None)
        self.saved_path = list(self.path or ())
        self.saved_cache = dict(self.cache or {})

    def restore(self):
        if self.path is not None and (len(self.path) != len(self.saved_path) or any(a is not b for a, b in zip(self.path, self.saved_path))):
            self.path[:] = self.saved_path
        cache = self.cache
        if cache is not None and (len(cache) != len(self.saved_cache) or any(cache.get(k) is not v for k, v in self.saved_cache.items())):
            cache.clear()
            cache.update(self.saved_cache)


def rebase():
    """Accept the current modules as clean (after start-up or an install) and watch them."""
    _state.modules = dict(sys.modules)
    for name, module in _state.modules.items():
        if name not in ("sys", "builtins", "__main__"):
            _watchers.watch_module(name, module)
    _watchers.watch_dict("the runner", _state.trampoline_ns)
    _watchers.watch_dict("the shims", _shim_ns)
    _state.hooks = _global_hooks()
    _state.sys_lists = {name: list(getattr(sys, name)) for name in _SYS_LISTS}
    _state.importer_cache = dict(sys.path_importer_cache)


# --- one run ----------------------------------------------------------------------------------


class Prepared:
    __slots__ = ("body", "expr", "source")

    def __init__(self, body, expr, source):
        self.body = body
        self.expr = expr
        self.source = source

    @property
    def body_async(self):
        return bool(self.body.co_flags & _CO_COROUTINE)

    @property
    def expr_async(self):
        return bool(self.expr is not None and self.expr.co_flags & _CO_COROUTINE)

    @property
    def is_async(self):
        return self.body_async or self.expr_async


def prepare(source):
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
        return describe(exc, source)
    return Prepared(body, expr_code, source)


_session_main = None


def begin(prepared, workdir, session=False):
    """Start a run: a fresh __main__ in the working directory (in a session, the session's own,
    kept from call to call, in the directory it was left in). Returns its namespace."""
    global _session_main
    linecache.cache[USER_FILENAME] = (len(prepared.source), None, prepared.source.splitlines(True), USER_FILENAME)
    if session and _session_main is not None:
        main = _session_main
    else:
        main = types.ModuleType("__main__")
        main.__dict__["__builtins__"] = builtins
        os.chdir(workdir)
        if session:
            _session_main = main
    sys.modules["__main__"] = main
    imported = _run.imported
    _run.__init__()
    _run.imported = imported
    _run.active = True
    return main.__dict__


def schedule(prepared, namespace):
    """Start an async run as a Task, which JavaScript awaits (and stops with cancel_current)."""
    coro = _run_async(prepared.body, prepared.body_async, prepared.expr, prepared.expr_async, namespace)
    _run.task = asyncio.ensure_future(coro)
    return _run.task


def cancel_current():
    """Called from JavaScript when a stop finds Python waiting on the event loop."""
    task = _run.task
    if task is not None and not task.done():
        task.cancel()


def end():
    """User code has stopped: later changes are the harness's own."""
    _run.active = False
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a replaced or closed stream must not fail the run
            pass


def describe(exc, source=None):
    """An exception as the outcome's error: type, message, line and a trimmed traceback."""
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return {"ok": True, "exit": 0}
    kind = type(exc).__name__
    try:
        te = traceback.TracebackException.from_exception(exc, capture_locals=False)
        _trim(te)
        text = "".join(te.format())
    except BaseException:  # noqa: BLE001 - formatting can itself fail (MemoryError)
        text = f"{kind}\n"
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == USER_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    try:
        if isinstance(exc, SystemExit):
            message = f"SystemExit({exc.code!r})"
        elif isinstance(exc, SyntaxError):
            message = exc.msg or ""
        else:
            message = str(exc)
    except BaseException:  # noqa: BLE001
        message = ""
    errno = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    return {"ok": False, "type": kind, "message": message, "line": line, "traceback": text, "errno": errno}


def _trim(te):
    # Drop the frames above the user's first one (trampoline, event loop, Pyodide). A syntax
    # error in the code has no frames of its own: the compiler's are noise.
    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        if getattr(te, "filename", None) == USER_FILENAME:  # set only for SyntaxError
            te.stack = traceback.StackSummary.from_list([])
            te = te.__cause__ or te.__context__
            continue
        frames = list(te.stack)
        for i, frame in enumerate(frames):
            if frame.filename == USER_FILENAME:
                te.stack = traceback.StackSummary.from_list(frames[i:])
                break
        else:
            te.stack = traceback.StackSummary.from_list(
                [f for f in frames if "/_pyodide/" not in f.filename and f.filename != TRAMPOLINE_FILENAME]
            )
        te = te.__cause__ or te.__context__


def save_figures(directory, limit):
    """Render matplotlib figures still open (plt.show() included) as PNG files in directory."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return 0
    numbers = plt.get_fignums()
    if not numbers:
        return 0
    os.makedirs(directory, exist_ok=True)
    for number in numbers[:limit]:
        path = os.path.join(directory, f"figure-{number}.png")
        if not os.path.exists(path):
            plt.figure(number).savefig(path, format="png")
    plt.close("all")
    return len(numbers)


def cancel_pending():
    """Cancel the tasks the run left. (Callbacks it scheduled never fire after it: the worker
    drops timers a run set once the run is over.) Returns how many were cancelled."""
    count = 0
    try:
        for task in asyncio.all_tasks(_state.loop):
            task.cancel()
            count += 1
    except RuntimeError:
        pass
    return count


def pending_tasks():
    try:
        return len(asyncio.all_tasks(_state.loop))
    except RuntimeError:
        return 0


def finish_session():
    """After a run in a session: everything stays for the next call, except work the run left
    scheduled (its output would land in no call)."""
    linecache.cache.pop(USER_FILENAME, None)
    return None


def finish():
    """Restore the interpreter after a run. Returns why the worker must be replaced, or None."""
    s = _state
    reason = _run.taint
    sys.modules["__main__"] = s.main
    linecache.cache.pop(USER_FILENAME, None)
    builtins.__dict__.clear()
    builtins.__dict__.update(s.builtins)
    for name, value in s.sys_attrs.items():
        setattr(sys, name, value)
    for name, items in s.sys_lists.items():
        getattr(sys, name)[:] = items
    sys.path_importer_cache.clear()
    sys.path_importer_cache.update(s.importer_cache)
    sys.setrecursionlimit(s.recursion_limit)
    sys.set_int_max_str_digits(s.int_max_str_digits)
    sys.settrace(None)
    sys.setprofile(None)
    if dict(os.environ) != s.environ:
        os.environ.clear()
        os.environ.update(s.environ)
    os.chdir(s.cwd)
    if asyncio.get_event_loop() is not s.loop:
        asyncio.set_event_loop(s.loop)
    reason = reason or _restore_loop(s)
    _reseed()
    s.registries.restore()
    re_module = sys.modules.get("re")
    if re_module is not None:
        re_module.purge()  # a planted pattern in re's cache would answer the next run's regexes
    return reason or _check_hooks(s) or _check_new_modules(s)


_LOOP_HOOKS = (
    "_task_factory", "_exception_handler", "_keyboard_interrupt_handler", "_system_exit_handler",
    "_no_in_progress_handler", "_debug",
)


def _restore_loop(s):
    # The loop's callbacks (exception handler, task factory) are set through its public API: undo
    # them. An instance attribute that shadows a method cannot be undone safely: replace the worker.
    attrs = vars(s.loop)
    for key in _LOOP_HOOKS:
        if attrs.get(key) is not s.loop_attrs.get(key):
            attrs[key] = s.loop_attrs.get(key)
    loop_class = type(s.loop)
    for key in attrs:
        if key not in s.loop_attrs and hasattr(loop_class, key):
            return f"the code replaced the event loop's {key}"
    return None


def _global_hooks():
    """Interpreter-wide callbacks a run could leave behind, as comparable values."""
    import gc
    import signal

    hooks = {
        "signal handlers": tuple(signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)),
        "gc.callbacks": tuple(gc.callbacks),
        "asyncgen hooks": tuple(sys.get_asyncgen_hooks()),
        "sys.monitoring": tuple(sys.monitoring.get_tool(i) for i in range(6)),
        "warnings.filters": tuple(sys.modules["warnings"].filters) if "warnings" in sys.modules else (),
    }
    logging = sys.modules.get("logging")
    if logging is not None:
        loggers = [("", logging.root), *logging.Logger.manager.loggerDict.items()]
        hooks["logging handlers"] = tuple((name, tuple(getattr(lg, "handlers", ()))) for name, lg in loggers)
        hooks["logging filters"] = tuple(
            (name, tuple(getattr(lg, "filters", ())), tuple(tuple(getattr(h, "filters", ())) for h in getattr(lg, "handlers", ())))
            for name, lg in loggers
        )
    return hooks


def _check_hooks(s):
    """Undo interpreter-wide callbacks a run installed (signal handlers, gc callbacks, asyncio
    hooks, sys.monitoring tools, warnings filters, logging handlers)."""
    import gc
    import signal

    now = _global_hooks()
    for name, value in now.items():
        before = s.hooks.get(name, ())
        if len(value) == len(before) and all(a is b for a, b in zip(value, before)):
            continue
        if name == "signal handlers":
            for signum, handler in zip((signal.SIGINT, signal.SIGTERM), before):
                signal.signal(signum, handler)
        elif name == "gc.callbacks":
            gc.callbacks[:] = list(before)
        elif name == "asyncgen hooks":
            sys.set_asyncgen_hooks(*before)
        elif name == "sys.monitoring":
            for tool, owner in enumerate(value):
                if owner is not None and before[tool] is None:
                    sys.monitoring.free_tool_id(tool)
        elif name == "warnings.filters":
            warnings = sys.modules["warnings"]
            warnings.resetwarnings()  # bumps the filters version, so cached decisions are dropped
            warnings.filters[:] = list(before)
        elif name == "logging handlers":
            logging = sys.modules["logging"]
            saved = dict(before)
            for lname, lg in [("", logging.root), *logging.Logger.manager.loggerDict.items()]:
                handlers = getattr(lg, "handlers", None)
                if handlers is not None:
                    handlers[:] = list(saved.get(lname, ()))
        elif name == "logging filters":
            logging = sys.modules["logging"]
            saved = {entry[0]: entry for entry in before}
            for lname, lg in [("", logging.root), *logging.Logger.manager.loggerDict.items()]:
                filters = getattr(lg, "filters", None)
                if filters is None:
                    continue
                _, kept, handler_filters = saved.get(lname, (lname, (), ()))
                filters[:] = list(kept)
                for handler, hf in zip(getattr(lg, "handlers", ()), handler_filters):
                    handler.filters[:] = list(hf)
    s.hooks = _global_hooks()
    return None


def _reseed():
    # Seeded generators would make "random" results repeat across runs.
    random = sys.modules.get("random")
    if random is not None:
        random.seed()
    decimal = sys.modules.get("decimal")
    if decimal is not None:
        decimal.setcontext(decimal.Context())


def _check_new_modules(s):
    modules = sys.modules
    for name, module in s.modules.items():
        if modules.get(name) is not module:
            return f"sys.modules[{name!r}] was replaced or removed"
    imported = set(_run.imported)
    _run.imported.clear()
    for name in [n for n in modules if n not in s.modules]:
        if name not in imported and name.split(".")[0] not in imported:
            return f"module {name!r} was put in sys.modules without being imported"
        module = modules[name]
        s.modules[name] = module
        if name != "__main__":
            _watchers.watch_module(name, module)
    return None


_SHIMS = '''
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
'''


_TRAMPOLINE = '''
def run(code, ns):
    try:
        exec(code, ns)
    except BaseException as e:
        return e


def evaluate(code, ns):
    try:
        value = eval(code, ns)
        return None if value is None else repr(value)
    except BaseException as e:
        return e


async def run_async(body, body_async, expr, expr_async, ns):
    try:
        result = eval(body, ns)
        if body_async:
            await result
        if expr is None:
            return None
        value = eval(expr, ns)
        if expr_async:
            value = await value
        return None if value is None else repr(value)
    except BaseException as e:
        return e
'''
