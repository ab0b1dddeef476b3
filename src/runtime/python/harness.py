"""Prepares and cleans up executions inside a worker's Pyodide.

Two namespaces, on purpose. This module keeps the clean state and the checks; it is hidden (out
of sys.modules, and gc.get_objects is refused during runs) and it never calls into an object a run
could have made: it looks at them only through accessors that run no Python code of theirs, and
what it takes away from the interpreter goes into a "grave" instead of dying on its frames. Every
step that does run user code (the code itself, its repr, its exception's str, its tasks, its
finalizers when the grave is emptied) runs in the small runner namespace at the end of this file,
called straight from JavaScript: a frame walk from there (sys._getframe, a traceback, a finalizer)
finds the runner and nothing of this module.

Between runs the interpreter is put back: fresh ``__main__``, builtins, sys, os.environ, the
working directory, registries, caches. What cannot be put back marks the worker for replacement:
CPython's dict and type watchers (installed through ctypes) report changes to the modules and
classes of the clean state, and after the run nothing it compiled may still be alive.
"""

import ast
import asyncio
import builtins
import ctypes
import functools as _functools
import gc
import linecache
import os
import sys
import time
import types
import weakref

import _frozen_importlib
import _frozen_importlib_external

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
_TRUSTED_ROOT = "/lib/"  # the standard library and installed packages: no run can write there

# --- looking at objects without running their code ----------------------------------------------
# isinstance() reads __class__, getattr() runs properties, == and hash() run methods: any of them
# on a run's object would run its code on this module's frames. These read the C-level truth.

_is_subclass = type.__subclasscheck__  # _is_subclass(T, S): S is T or a real subclass of it
_class_module = type.__dict__["__module__"].__get__
_class_name = type.__dict__["__qualname__"].__get__
_class_dict = type.__dict__["__dict__"].__get__
_class_mro = type.__dict__["__mro__"].__get__
_GC_COLLECT = gc.collect
_GC_FREEZE = gc.freeze
_URANDOM = os.urandom
_FROM_BYTES = int.from_bytes


def _is_class(value):
    return _is_subclass(type, type(value))


def _eq(value, text):
    """value == text, for a value that may be anything: only an exact str can be equal."""
    return type(value) is str and value == text


def _plain_keys(d):
    # A dict lookup compares the key with stored keys of the same hash: a stored key of the run's
    # own class would run its __eq__. Look up only in dicts whose keys are all exact strings.
    return all(type(k) is str for k in d)


def _module_of(cls):
    """A class's __module__ if it is a plain string, else None."""
    try:
        if not _plain_keys(_class_dict(cls)):
            return None
        module = _class_module(cls)
    except Exception:  # noqa: BLE001
        return None
    return module if type(module) is str else None


def _name_of(cls):
    try:
        name = _class_name(cls)
    except Exception:  # noqa: BLE001
        return "?"
    return name if type(name) is str else "?"


def _plain_str(value):
    """An exact str equal to value (a str subclass's methods are not run), or None."""
    if type(value) is str:
        return value
    if _is_subclass(str, type(value)):  # a subclass: its characters, without its methods
        return str.__getitem__(value, slice(None))
    return None


def _instance_dict(value):
    """An object's attribute dict when its class keeps one the C way, else None."""
    for cls in _class_mro(type(value)):
        cd = _class_dict(cls)
        if not _plain_keys(cd):
            return None
        descriptor = cd.get("__dict__")
        if descriptor is None:
            continue
        if type(descriptor) is not types.GetSetDescriptorType:
            return None  # a __dict__ of the class's own making
        try:
            d = descriptor.__get__(value, type(value))
        except Exception:  # noqa: BLE001
            return None
        return d if type(d) is dict and _plain_keys(d) else None
    return None


_instance_dict_types = {}


def _instance_dict_clean(value):
    # For the clean state only: a per-class answer, then a plain read.
    kind = type(value)
    has = _instance_dict_types.get(kind)
    if has is None:
        has = _instance_dict_types[kind] = "__dict__" in dir(kind) and not _is_class(value)
    d = getattr(value, "__dict__", None) if has else None
    return d if type(d) is dict else None


class _Run:
    """What the current run did that matters for cleanup."""

    def __init__(self):
        self.active = False
        self.imported = []
        self.taint = None
        self.codes = []  # weak references to every code object the run made runnable
        self.code_ids = set()

    def mark(self, reason):
        if self.active and self.taint is None:
            self.taint = reason


_run = _Run()
_in_callback = False  # our own ctypes calls inside a watcher are not the user's
_state = None
_runner = None
_shim_ns = None
_watchers = None


def _track(code):
    """Remember a code object of the run's (and those nested in it): none may outlive the run."""
    stack = [code]
    while stack:
        c = stack.pop()
        if id(c) in _run.code_ids:
            continue
        _run.code_ids.add(id(c))
        _run.codes.append(weakref.ref(c))
        stack.extend(k for k in c.co_consts if type(k) is types.CodeType)


def _is_run_code(code):
    if id(code) not in _run.code_ids:
        return False
    return any(ref() is code for ref in _run.codes)


_CALL_WITH_FRAMES_REMOVED = _frozen_importlib._call_with_frames_removed.__code__
_EXEC_MODULE = _frozen_importlib_external._LoaderBasics.exec_module.__code__
_ZIPIMPORTER = __import__("zipimport").zipimporter
_PATH_LOADERS = (_frozen_importlib_external.SourceFileLoader, _frozen_importlib_external.SourcelessFileLoader)
_LOADER_OVERRIDES = frozenset({"get_code", "get_data", "get_source", "source_to_code", "path_stats", "exec_module"})


def _genuine_import(frame):
    """Whether frame is the import system running a module file of the library (whose code, and
    the code its body generates, such as namedtuple methods, is the library's, not the run's)."""
    if frame is None or frame.f_code is not _CALL_WITH_FRAMES_REMOVED:
        return False
    caller = frame.f_back
    if caller is None or caller.f_code is not _EXEC_MODULE:
        return False
    loader = caller.f_locals.get("self")
    kind = type(loader)
    if kind is _ZIPIMPORTER:
        field = "archive"
    elif any(kind is k for k in _PATH_LOADERS):
        field = "path"
    else:
        return False
    attrs = _instance_dict(loader)  # None unless every key is a plain string
    if attrs is None or any(k in _LOADER_OVERRIDES for k in attrs):
        return False
    where = attrs.get(field)
    return type(where) is str and where.startswith(_TRUSTED_ROOT)


def _during_library_import():
    # From the audited call up to the nearest module body: a library module's body run by the
    # import system, or the import system executing such a body.
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code is _CALL_WITH_FRAMES_REMOVED:
            return _genuine_import(frame)
        if _eq(frame.f_code.co_name, "<module>"):
            return _genuine_import(frame.f_back)
        frame = frame.f_back
    return False


class _State:
    """Everything a run may change, captured when the worker is clean."""

    def __init__(self, runner_ns):
        import decimal

        self.builtins = dict(builtins.__dict__)
        self.sys_attrs = {name: getattr(sys, name) for name in _SYS_ATTRS if hasattr(sys, name)}
        self.sys_lists = {name: list(getattr(sys, name)) for name in _SYS_LISTS}
        self.importer_cache = dict(sys.path_importer_cache)
        self.recursion_limit = sys.getrecursionlimit()
        self.int_max_str_digits = sys.get_int_max_str_digits()
        self.environ = dict(os.environ._data)
        self.cwd = os.getcwd()
        self.main = sys.modules["__main__"]
        self.loop = asyncio.get_event_loop()
        self.loop_attrs = dict(vars(self.loop))
        self.runner_ns = runner_ns
        self.modules = {}
        self.decimal_templates = [(t, t.copy(), repr(t)) for t in (decimal.DefaultContext, decimal.BasicContext, decimal.ExtendedContext)]
        self.streams = [
            (name, stream, (stream.encoding, stream.errors, stream.line_buffering, stream.write_through))
            for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr))
        ]
        self.gc_threshold = gc.get_threshold()
        import codecs
        import encodings

        from _pyodide._importhook import JsLoader

        # One walk of the heap, in C, for the objects the interpreter holds outside any module.
        utf8, strict, search = codecs.lookup("utf-8"), codecs.lookup_error("strict"), encodings.search_function
        referrers = gc.get_referrers(JsLoader, utf8, strict, search)
        _scrub_api_references(referrers, JsLoader)
        self.registries = _Registries(referrers, utf8, strict, search)
        del referrers
        self.abcs = {}
        self.born_abcs = {}


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

    def watch_module(self, name, module, clean=False):
        """Watch a module's dict, its classes, tables and objects. clean: nothing of a run's is
        in it (start-up, installs), so plain attribute reads are safe and faster."""
        if type(module) is not types.ModuleType:
            return
        d = module.__dict__
        if type(d) is not dict or id(d) in self.names:
            return
        self.watch_dict(name, d)
        module_of = _class_module if clean else _module_of
        instance_dict = _instance_dict_clean if clean else _instance_dict
        for key, value in list(d.items()):
            if type(key) is not str or key == "__builtins__":
                continue  # the builtins are put back whole after every run
            if _is_class(value):
                if module_of(value) == name:
                    self._api.PyType_Watch(self.type_id, value)
            elif type(value) is dict:
                # A module's own tables and caches (re._cache, encodings._cache, copyreg's):
                # libraries fill them as they go, so only code planted there counts.
                self.watch_dict(f"{name}.{key}", value, inner=True)
            elif type(value) not in (types.ModuleType, types.FunctionType, types.BuiltinFunctionType):
                # A module-level object's attributes (json._default_encoder.encode) are as much a
                # part of the library as the module's own.
                inner = instance_dict(value)
                if inner is not None:
                    self.watch_dict(f"{name}.{key}", inner)

    def watch_type(self, cls):
        self._api.PyType_Watch(self.type_id, cls)

    def watch_dict(self, name, d, inner=False):
        if id(d) not in self.names:
            self.names[id(d)] = name
            if inner:
                self.inner.add(id(d))
            self._api.PyDict_Watch(self.dict_id, d)


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
        if key is not None and type(key) is not str:
            _run.mark(f"the code used a key of its own type in {name}")
            return 0
        if key in _BENIGN_KEYS:
            return 0
        new = ctypes.cast(value_ptr, ctypes.py_object).value if value_ptr else None
        where = f"{name}.{key}" if key is not None else name
        if id(d) in _watchers.inner:
            if event in (_DICT_ADDED, _DICT_MODIFIED) and _carries_code(new):
                _run.mark(f"the code put its own code into {where}")
            return 0
        if event == _DICT_ADDED:
            # The import system binds a submodule on its package: that is not a patch.
            if type(new) is types.ModuleType and f"{name}.{key}" in _run.imported:
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
    """Whether a value would run code of the run's if a library later called or used it."""
    if depth > 3:
        return False
    kind = type(value)
    if kind is types.FunctionType or kind is types.CodeType:
        code = value.__code__ if kind is types.FunctionType else value
        if _eq(code.co_filename, USER_FILENAME) or _is_run_code(code):
            return True
        return kind is types.FunctionType and _eq(value.__module__, "__main__")
    if kind is types.MethodType:
        return _carries_code(value.__func__, depth + 1) or _carries_code(value.__self__, depth + 1)
    if _is_class(value):
        if _module_of(value) == "__main__":
            return True
        return any(_carries_code(v, depth + 1) for v in list(_class_dict(value).values())[:64])
    if _module_of(kind) == "__main__":
        return True
    if kind is _functools.partial:
        return any(value.func is runner for runner in _CODE_RUNNERS) or any(
            _carries_code(v, depth + 1) for v in (value.func, *value.args, *value.keywords.values())
        )
    if kind is list or kind is tuple or kind is set or kind is frozenset:
        return len(value) < 64 and any(_carries_code(v, depth + 1) for v in value)
    if kind is dict:
        return len(value) < 64 and any(_carries_code(v, depth + 1) for v in value.values())
    return callable(value) and any(value is runner for runner in _CODE_RUNNERS)


def _on_type_event(cls):
    try:
        if _run.active:
            _run.mark(f"the code changed class {_module_of(cls)}.{_name_of(cls)}")
    except BaseException:  # noqa: BLE001
        _run.mark("a class was changed")
    return 0


def _audit(event, args):
    # sys.audit() lets code raise events of its own, with arguments of its own: nothing of them
    # is trusted beyond its C-level type.
    if _in_callback or type(event) is not str:
        return
    if event == "import":
        # Recorded outside runs too: the harness's own imports (a traceback's) are legitimate.
        name = _plain_str(args[0]) if args else None
        if name is not None:
            _run.imported.append(name)
        return
    if not _run.active:
        return
    if event.startswith(_REFUSED_EVENTS):
        _run.mark(f"the code tried {event}")
        raise PermissionError(f"{event.split('/')[0]} is not available in this sandbox")
    if event in _UNSUPPORTED_EVENTS:
        raise PermissionError(f"{event} is not available in this sandbox (no {_UNSUPPORTED_EVENTS[event]})")
    try:
        if event == "exec" or event == "function.__new__":
            # Code the run compiled (exec, eval, FunctionType), unless a library makes it while
            # being imported.
            if args and type(args[0]) is types.CodeType and not _during_library_import():
                _track(args[0])
        elif event == "object.__setattr__" or event == "object.__delattr__":
            # CPython audits changes to __class__ and to a function's __code__ and defaults.
            target = args[0]
            attr = args[1] if type(args[1]) is str else None
            if attr == "__class__":
                _run.mark(f"the code changed the class of a {_name_of(type(target))} object")
                return
            if type(target) is not types.FunctionType:
                return  # classes: the type watcher sees changes to those that existed before
            if attr == "__code__" and len(args) > 2 and type(args[2]) is types.CodeType:
                _track(args[2])
            module = target.__module__
            if type(module) is not str:
                _run.mark("the code gave a function a module of its own type")
            elif module != "__main__" and (module in _state.modules or module == "__runner__"):
                _run.mark(f"the code changed {_plain_str(target.__qualname__)}.{attr}")
    except BaseException:  # noqa: BLE001 - an audit hook that raises aborts the audited operation
        pass


# --- set-up -----------------------------------------------------------------------------------


def init(js_sleep):
    """Called once per worker after start-up; returns the runner's namespace."""
    global _state, _watchers, _runner, _shim_ns
    os.environ.pop("_", None)  # set by the runtime to a host path
    # Functions put into the standard library live in namespaces of their own: a function's
    # __globals__ must lead nowhere near this module.
    _shim_ns = {"__name__": "__shims__", "__builtins__": builtins, "_wait": js_sleep}
    exec(compile(_SHIMS, "<shims>", "exec"), _shim_ns)
    time.sleep = _shim_ns["sleep"]
    runner_ns = {"__name__": "__runner__", "__builtins__": builtins, "USER_FILENAME": USER_FILENAME}
    exec(compile(_RUNNER, TRAMPOLINE_FILENAME, "exec"), runner_ns)
    _runner = runner_ns
    _state = _State(runner_ns)
    # Freezing would hide a run's objects from the check for leftovers (see _check_leftovers).
    del gc.freeze, gc.unfreeze
    _guard_array_length()
    _watchers = _Watchers()
    rebase()
    sys.addaudithook(_audit)
    return runner_ns


def _guard_array_length():
    # Made now, so the class Pyodide caches for JavaScript arrays is the guarded one (and,
    # existing before any run, is watched like the library's classes: see rebase).
    from pyodide.ffi import to_js

    array_class = type(to_js([]))
    array_class.__setattr__ = _shim_ns["guard_length"](array_class.__setattr__)


def _scrub_api_references(referrers, loader_class):
    # Importing pyodide_js (before the snapshot) left its loaders in the heap, each holding the
    # whole Pyodide API: file reads, package downloads, Node sockets. Unregistering the module
    # does not reach them.
    for obj in referrers:
        if type(obj) is loader_class:
            obj.jsproxy = None


class _Registries:
    """Tables that live in the interpreter rather than in a module, which a run can add to:
    the codec search path and cache (codecs.register) and the codec error handlers
    (codecs.register_error). Restored after every run."""

    def __init__(self, referrers, utf8, strict, search):
        self.path = self.cache = self.errors = None
        for o in referrers:  # the interpreter keeps these out of any module
            kind = type(o)
            if kind is list and self.path is None and any(x is search for x in o):
                self.path = o
            elif kind is dict:
                if self.cache is None and o.get("utf-8") is utf8:
                    self.cache = o
                elif self.errors is None and o.get("strict") is strict:
                    self.errors = o
        self.saved = [(t, list(t) if type(t) is list else dict(t)) for t in (self.path, self.cache, self.errors) if t is not None]

    def restore(self, grave):
        for table, saved in self.saved:
            if type(table) is list:
                if len(table) != len(saved) or any(a is not b for a, b in zip(table, saved)):
                    grave.append(list(table))
                    table[:] = saved
            elif len(table) != len(saved) or any(type(k) is not str for k in table) or any(table.get(k) is not v for k, v in saved.items()):
                grave.append(dict(table))
                table.clear()
                table.update(saved)


def rebase():
    """Accept the current modules as clean (after start-up or an install) and watch them."""
    _state.modules = dict(sys.modules)
    for name, module in _state.modules.items():
        if name not in ("sys", "builtins", "__main__"):
            _watchers.watch_module(name, module, clean=True)
    _watchers.watch_dict("the runner", _state.runner_ns)
    _watchers.watch_dict("the shims", _shim_ns)
    # The JsProxy classes Pyodide made so far live in its cache, in no module's namespace.
    core = sys.modules.get("_pyodide_core")
    cache = core.__dict__.get("jsproxy_typedict") if type(core) is types.ModuleType else None
    for cls in list(cache.values()) if type(cache) is dict else ():
        if _is_class(cls):
            _watchers.watch_type(cls)
    for module in (sys.modules.get("logging"), sys.modules.get("logging.handlers")):
        if module is not None:
            _LOGGING_CLASSES.update(id(v) for v in vars(module).values() if _is_class(v) and _class_module(v) == module.__name__)
    _state.hooks = _global_hooks()
    _state.sys_lists = {name: list(getattr(sys, name)) for name in _SYS_LISTS}
    _state.importer_cache = dict(sys.path_importer_cache)
    if _state.abcs:  # after an install: a start-up heap holds no garbage worth a full collection
        _GC_COLLECT()
    _state.abcs.update(_abc_registries(gc.get_objects(), clean=True))
    _state.abc_token = _abc_token()
    _GC_FREEZE()  # the clean state: from here on, gc.get_objects() lists only what runs made


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
    if not session:
        _track(prepared.body)
        if prepared.expr is not None:
            _track(prepared.expr)
    _run.active = True
    return main.__dict__


def loop():
    """The event loop of the clean state, whose tasks the runner cancels after a run."""
    return _state.loop


def finish_session():
    """After a run in a session: everything stays for the next call."""
    _run.active = False
    linecache.cache.pop(USER_FILENAME, None)
    return None


def finish():
    """Put the interpreter back after a run. Returns the grave: everything taken away from it,
    for the runner's bury() to let go of, under the run's guards and away from this module's
    frames (finalizers run then). Returns None when the worker is to be replaced anyway."""
    if _run.taint is not None:
        return None
    s = _state
    grave = []
    try:
        sysdict = sys.__dict__
        if not _plain_keys(sysdict) or not _plain_keys(sys.modules):
            raise RuntimeError("sys holds names of the code's own types")
        for name, value in s.sys_attrs.items():
            current = sysdict.get(name)
            if current is not value:
                grave.append(current)
                sysdict[name] = value
        grave.append(sys.modules.get("__main__"))
        sys.modules["__main__"] = s.main
        linecache.cache.pop(USER_FILENAME, None)
        grave.append(dict(builtins.__dict__))
        builtins.__dict__.clear()
        builtins.__dict__.update(s.builtins)
        for name, items in s.sys_lists.items():
            current = sysdict[name]
            grave.append(list(current))
            current[:] = items
        grave.append(dict(sys.path_importer_cache))
        sys.path_importer_cache.clear()
        sys.path_importer_cache.update(s.importer_cache)
        sys.setrecursionlimit(s.recursion_limit)
        sys.set_int_max_str_digits(s.int_max_str_digits)
        grave.append((sys.gettrace(), sys.getprofile()))
        sys.settrace(None)
        sys.setprofile(None)
        _restore_environ(s)
        os.chdir(s.cwd)
        _restore_loop(s, grave)
        _reseed(s, grave)
        s.registries.restore(grave)
        _restore_streams(s)
        _restore_gc(s, grave)
        _restore_hooks(s, grave)
    except BaseException as exc:  # noqa: BLE001
        _run.taint = _run.taint or f"the interpreter could not be reset ({type(exc).__name__})"
        return grave
    return grave


def settle():
    """After the grave is buried: the run is over. Returns why the worker must be replaced, or
    None (and then what the run left is accepted as clean)."""
    _run.active = False
    s = _state
    return _run.taint or _check_leftovers(s) or _check_abc(s) or _check_new_modules(s) or _refreeze(s)


def _restore_environ(s):
    env = os.environ
    if type(env) is not os._Environ:
        raise RuntimeError("os.environ was replaced")
    data = vars(env)["_data"]
    if type(data) is not dict or any(type(k) is not bytes or type(v) is not bytes for k, v in data.items()):
        raise RuntimeError("os.environ holds values of the code's own types")
    if data != s.environ:
        env.clear()
        for key, value in s.environ.items():
            env[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")


_LOOP_HOOKS = (
    "_task_factory", "_exception_handler", "_keyboard_interrupt_handler", "_system_exit_handler",
    "_no_in_progress_handler", "_debug",
)


def _restore_loop(s, grave):
    current = asyncio.get_event_loop()
    if current is not s.loop:
        grave.append(current)
        asyncio.set_event_loop(s.loop)
    # The loop's callbacks (exception handler, task factory) are set through its public API: undo
    # them. An instance attribute that shadows a method cannot be undone safely.
    attrs = vars(s.loop)
    for key in list(attrs):
        if type(key) is not str:
            raise RuntimeError("the event loop has attributes of the code's own types")
    for key in _LOOP_HOOKS:
        if attrs.get(key) is not s.loop_attrs.get(key):
            grave.append(attrs.get(key))
            attrs[key] = s.loop_attrs.get(key)
    loop_class = type(s.loop)
    for key in list(attrs):
        if key not in s.loop_attrs and hasattr(loop_class, key):
            raise RuntimeError(f"the code replaced the event loop's {key}")


def _reseed(s, grave):
    # Seeded generators would make "random" results repeat across runs.
    random = sys.modules.get("random")
    if random is not None:
        # 256 bits from the OS: random.seed() with no argument reads 2.5 kB, 4 times slower.
        random.seed(_FROM_BYTES(_URANDOM(32)))
    decimal = sys.modules.get("decimal")
    if decimal is not None:
        # The templates new contexts copy from (a run may have changed DefaultContext.prec).
        for template, saved, saved_repr in s.decimal_templates:
            if repr(template) == saved_repr:
                continue
            for attr in ("prec", "rounding", "Emin", "Emax", "capitals", "clamp"):
                if getattr(template, attr) != getattr(saved, attr):
                    setattr(template, attr, getattr(saved, attr))
            if template.traps != saved.traps:
                template.traps = dict(saved.traps)
            template.clear_flags()
        grave.append(decimal.getcontext())
        decimal.setcontext(decimal.Context())


def _restore_streams(s):
    # The standard streams are the same objects from run to run: undo reconfigure() and drop
    # input a run left unread in sys.stdin's buffer (the next run's input() would return it).
    for name, stream, settings in s.streams:
        if name == "stdin":
            stream.read()
        current = (stream.encoding, stream.errors, stream.line_buffering, stream.write_through)
        if name != "stdin" or current != settings:
            encoding, errors, line_buffering, write_through = settings
            stream.reconfigure(encoding=encoding, errors=errors, newline=None, line_buffering=line_buffering, write_through=write_through)


def _restore_gc(s, grave):
    if gc.get_debug():
        gc.set_debug(0)
    grave.append(list(gc.garbage))
    gc.garbage.clear()
    if gc.get_threshold() != s.gc_threshold:
        gc.set_threshold(*s.gc_threshold)
    if not gc.isenabled():
        gc.enable()


def _logging_state():
    """The loggers and their handlers, looked at only where they are of logging's own classes."""
    logging = sys.modules.get("logging")
    if logging is None:
        return None
    manager = vars(logging.Logger).get("manager")
    if type(manager) is not logging.Manager or not _plain_keys(vars(manager)):
        raise RuntimeError("logging's manager was changed")
    loggers = [("", logging.root)]
    for name, lg in list(vars(manager)["loggerDict"].items()):
        if type(name) is not str:
            raise RuntimeError("a logger has a name of the code's own type")
        loggers.append((name, lg))
    state = []
    for name, lg in loggers:
        if type(lg) is logging.PlaceHolder:
            continue
        if type(lg) not in (logging.Logger, logging.RootLogger):
            raise RuntimeError(f"logger {name!r} is of the code's own class")
        attrs = vars(lg)
        if not _plain_keys(attrs):
            raise RuntimeError(f"logger {name!r} was changed")
        handlers, filters = attrs.get("handlers"), attrs.get("filters")
        if type(handlers) is not list or type(filters) is not list:
            raise RuntimeError(f"logger {name!r} was changed")
        handler_filters = []
        for h in handlers:
            hd = _instance_dict(h) if id(type(h)) in _LOGGING_CLASSES else None
            hf = hd.get("filters") if hd is not None else None
            handler_filters.append((h, hf, tuple(hf) if type(hf) is list else None))
        state.append((name, lg, handlers, tuple(handlers), filters, tuple(filters), tuple(handler_filters)))
    return state


_LOGGING_CLASSES = set()  # ids of logging's own handler classes (whose attributes are plain)


def _global_hooks():
    """Interpreter-wide callbacks a run could leave behind, as comparable values."""
    import signal

    warnings = sys.modules.get("warnings")
    return {
        "signal handlers": tuple(signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)),
        "gc.callbacks": tuple(gc.callbacks),
        "asyncgen hooks": tuple(sys.get_asyncgen_hooks()),
        "sys.monitoring": tuple(sys.monitoring.get_tool(i) for i in range(6)),
        "warnings.filters": tuple(warnings.filters) if warnings is not None else (),
        "logging": _logging_state(),
    }


def _same(a, b):
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def _same_hooks(now, before):
    if not all(_same(now[k], before[k]) for k in now if k != "logging"):
        return False
    a, b = now["logging"], before["logging"]
    if a is None or b is None:
        return a is b
    # Per logger: the same logger, handlers and filters (and each handler's filters).
    return len(a) == len(b) and all(
        x[0] == y[0] and x[1] is y[1] and _same(x[3], y[3]) and _same(x[5], y[5])
        and all(_same(p[2] or (), q[2] or ()) for p, q in zip(x[6], y[6])) and _same([p[0] for p in x[6]], [q[0] for q in y[6]])
        for x, y in zip(a, b)
    )


def _restore_hooks(s, grave):
    """Undo interpreter-wide callbacks a run installed (signal handlers, gc callbacks, asyncio
    hooks, sys.monitoring tools, warnings filters, logging handlers and filters)."""
    import signal

    before = s.hooks
    now = _global_hooks()
    if _same_hooks(now, before):
        return
    grave.append(now)
    if not _same(now["signal handlers"], before["signal handlers"]):
        for signum, handler in zip((signal.SIGINT, signal.SIGTERM), before["signal handlers"]):
            signal.signal(signum, handler)
    if not _same(now["gc.callbacks"], before["gc.callbacks"]):
        gc.callbacks[:] = list(before["gc.callbacks"])
    if not _same(now["asyncgen hooks"], before["asyncgen hooks"]):
        sys.set_asyncgen_hooks(*before["asyncgen hooks"])
    if not _same(now["sys.monitoring"], before["sys.monitoring"]):
        for tool, owner in enumerate(now["sys.monitoring"]):
            if owner is not None and before["sys.monitoring"][tool] is None:
                for event in range(24):
                    try:
                        grave.append(sys.monitoring.register_callback(tool, 1 << event, None))
                    except ValueError:
                        pass
                sys.monitoring.free_tool_id(tool)
    if not _same(now["warnings.filters"], before["warnings.filters"]):
        warnings = sys.modules["warnings"]
        warnings.resetwarnings()  # bumps the filters version, so cached decisions are dropped
        warnings.filters[:] = list(before["warnings.filters"])
    if now["logging"] is not None:
        saved = {entry[0]: entry for entry in before["logging"] or ()}
        for name, _lg, handlers, _h, filters, _f, handler_filters in now["logging"]:
            kept = saved.get(name)
            handlers[:] = list(kept[3]) if kept else []
            filters[:] = list(kept[5]) if kept else []
            for _h, hf, saved_filters in kept[6] if kept else ():
                if type(hf) is list:
                    hf[:] = list(saved_filters)
    s.hooks = _global_hooks()


def _check_leftovers(s):
    """Nothing the run compiled may outlive it: a live function, generator or frame of its code
    (left in a cache, a registry, a class, a finalizer) would run inside a later call."""
    for ref in _run.codes:
        code = ref()
        if code is not None:
            return f"the code left its own code alive ({code.co_name})"
    # Objects born in this run and still alive (the clean state is frozen, out of this list):
    # a class or partial that would run code without any code of the run's own in it.
    born = gc.get_objects()
    for obj in born:
        if _is_class(obj):
            if _module_of(obj) == "__main__" or _carries_code(obj):
                return f"the code left class {_name_of(obj)} alive"
        elif type(obj) is _functools.partial and _carries_code(obj):
            return "the code left a partial function alive"
    s.born_abcs = _abc_registries(born)
    return None


def _refreeze(s):
    # What this run left is accepted (its imports, caches): later checks need not look at it.
    s.abcs.update(s.born_abcs)
    s.born_abcs = {}
    _GC_FREEZE()
    return None


def _check_new_modules(s):
    modules = sys.modules
    for name, module in s.modules.items():
        if modules.get(name) is not module:
            return f"sys.modules[{name!r}] was replaced or removed"
    imported = set(_run.imported)
    _run.imported.clear()
    for name in list(modules):
        if type(name) is not str:
            return "sys.modules has a name of the code's own type"
        if name in s.modules:
            continue
        if name not in imported and name.split(".")[0] not in imported:
            return f"module {name!r} was put in sys.modules without being imported"
        module = modules[name]
        if type(module) is not types.ModuleType:
            return f"module {name!r} is an object of the code's own class"
        s.modules[name] = module
        if name != "__main__":
            _watchers.watch_module(name, module)
    return None


def _abc_token():
    import abc

    return abc.get_cache_token()


def _abc_registries(objects, clean=False):
    """For every ABC: the classes registered as its virtual subclasses (by id), and the ABC."""
    import _abc
    import abc

    found = {}
    for obj in objects:
        # Only ABCs of ABCMeta itself whose class dicts hold plain keys: reading another's
        # registry would run its metaclass's code.
        if type(obj) is abc.ABCMeta and (clean or all(_plain_keys(_class_dict(c)) for c in _class_mro(obj))):
            try:
                found[id(obj)] = (obj, {id(r()) for r in _abc._get_dump(obj)[0] if r() is not None})
            except Exception:  # noqa: BLE001 - not an ABC of the C implementation
                pass
    return found


def _check_abc(s):
    # ABCMeta.register() leaves no trace in any dict: a run that made list a Mapping would change
    # isinstance() for the next one. Registering a class of a module that existed before the run
    # is such a change (a library's own registrations concern classes it just defined).
    token = _abc_token()
    if token == s.abc_token:
        return None
    import _abc

    s.abc_token = token
    current = dict(s.abcs)
    current.update(s.born_abcs)
    for key, (cls, before) in current.items():
        try:
            now = {id(r()): r() for r in _abc._get_dump(cls)[0] if r() is not None}
        except Exception:  # noqa: BLE001
            continue
        for added in set(now) - before:
            sub = now[added]
            if _is_class(sub) and _module_of(sub) in s.modules:
                return f"the code registered {_name_of(sub)} as a virtual subclass of {_name_of(cls)}"
        s.abcs[key] = (cls, set(now))
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


_MAX_LENGTH = 1 << 20


def guard_length(set_attribute):
    def __setattr__(self, name, value):
        # `a.length = 2**24` on a JavaScript array is one allocation far past the worker's
        # JavaScript heap limit, which V8 cannot take back (the process aborts at the next GC).
        if type(name) is str and name == "length" and not (type(value) is int and 0 <= value <= _MAX_LENGTH):
            raise ValueError(f"a JavaScript array's length can be set only to an int up to {_MAX_LENGTH}")
        set_attribute(self, name, value)

    return __setattr__
'''


# Everything that runs the user's code, or code of objects the user's code made. Called from
# JavaScript only, so its frames have no Python caller: nothing above them to find.
_RUNNER = '''
import asyncio as _asyncio
import gc as _gc
import os as _os
import sys as _sys
import traceback as _traceback


def _text(value, limit):
    # repr() and str() may return a str subclass: hand back plain characters, at most limit.
    if not isinstance(value, str):
        return None
    size = str.__len__(value)
    text = str.__getitem__(value, slice(0, limit))
    if size > limit:
        text += f"... [{size - limit} more characters cut]"
    return text


def run(code, ns):
    try:
        exec(code, ns)
    except BaseException as e:
        return e


def evaluate(code, ns, limit):
    try:
        value = eval(code, ns)
        return None if value is None else _text(repr(value), limit)
    except BaseException as e:
        return e


async def run_async(body, body_async, expr, expr_async, ns, limit):
    try:
        result = eval(body, ns)
        if body_async:
            await result
        if expr is None:
            return None
        value = eval(expr, ns)
        if expr_async:
            value = await value
        return None if value is None else _text(repr(value), limit)
    except BaseException as e:
        return e


def schedule(prepared, ns, limit):
    """Start an async run as a Task, which JavaScript awaits (and stops with cancel)."""
    coro = run_async(prepared.body, prepared.body_async, prepared.expr, prepared.expr_async, ns, limit)
    return _asyncio.ensure_future(coro)


def cancel(task):
    if not task.done():
        task.cancel()


def flush():
    for stream in (_sys.stdout, _sys.stderr):
        try:
            stream.flush()
        except Exception:  # a replaced or closed stream must not fail the run
            pass


def cancel_pending(loop):
    """Cancel the tasks the run left. (Callbacks it scheduled never fire after it: the worker
    drops timers a run set once the run is over.) Returns how many were cancelled."""
    count = 0
    try:
        for task in _asyncio.all_tasks(loop):
            task.cancel()
            count += 1
    except RuntimeError:
        pass
    return count


def pending_tasks(loop):
    try:
        return len(_asyncio.all_tasks(loop))
    except RuntimeError:
        return 0


def bury(grave):
    """Let go of what the clean-up took from the interpreter, and of the library caches that may
    hold the run's objects; collect the cycles. Finalizers of the run's objects run here."""
    grave.clear()
    del grave
    re = _sys.modules.get("re")
    if re is not None:
        re.purge()  # a planted pattern in re's cache would answer the next run's regexes
    typing = _sys.modules.get("typing")
    for clear in getattr(typing, "_cleanups", ()):
        clear()
    _gc.collect()


def save_figures(directory, limit):
    """Render matplotlib figures still open (plt.show() included) as PNG files in directory."""
    plt = _sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return 0
    numbers = plt.get_fignums()
    if not numbers:
        return 0
    _os.makedirs(directory, exist_ok=True)
    for number in numbers[:limit]:
        path = _os.path.join(directory, f"figure-{number}.png")
        if not _os.path.exists(path):
            plt.figure(number).savefig(path, format="png")
    plt.close("all")
    return len(numbers)


def describe(exc, limit):
    """An exception as the outcome's error: type, message, line and a trimmed traceback."""
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return {"ok": True, "exit": 0}
    kind = type(exc).__name__
    try:
        te = _traceback.TracebackException.from_exception(exc, capture_locals=False)
        _trim(te)
        text = "".join(te.format())
    except BaseException:  # formatting can itself fail (MemoryError)
        text = f"{kind}\\n"
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
    except BaseException:
        message = ""
    errno = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    return {
        "ok": False,
        "type": _text(kind, 200) or "Exception",
        "message": _text(message, min(limit, 65536)) or "",
        "line": line if type(line) is int else None,
        "traceback": _text(text, limit) or "",
        "errno": errno if type(errno) is int else None,
    }


def _internal_frame(filename):
    # Pyodide's and the runner's frames, and the JavaScript frames Pyodide puts into a
    # JsException's traceback (file:///…/build/…, node:internal/…, wasm://…): host paths.
    return "/_pyodide/" in filename or filename == "<runner>" or "://" in filename or filename.startswith("node:")


def _trim(te):
    # Drop the frames above the user's first one (runner, event loop, Pyodide). A syntax
    # error in the code has no frames of its own: the compiler's are noise.
    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        if getattr(te, "filename", None) == USER_FILENAME:  # set only for SyntaxError
            te.stack = _traceback.StackSummary.from_list([])
            te = te.__cause__ or te.__context__
            continue
        frames = list(te.stack)
        for i, frame in enumerate(frames):
            if frame.filename == USER_FILENAME:
                te.stack = _traceback.StackSummary.from_list(frames[i:])
                break
        else:
            te.stack = _traceback.StackSummary.from_list([f for f in frames if not _internal_frame(f.filename)])
        te = te.__cause__ or te.__context__
'''
