"""Everything that runs the user's code, or code of objects the user's code made. Called from
JavaScript only, so its frames have no Python caller: nothing above them to find."""
import asyncio as _asyncio
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


def run(prepared, limit):
    """A run without await: the body, then the last expression's repr (None for None); or the
    exception either raised. The code can read this frame's locals (sys._getframe(1)): the
    Prepared goes before it runs, since its class leads to the harness's globals."""
    body, expr, ns = prepared.body, prepared.expr, prepared.ns
    del prepared
    try:
        exec(body, ns)
        if expr is None:
            return None
        value = eval(expr, ns)
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


def schedule(prepared, limit):
    """Start an async run as a Task, which JavaScript awaits (and stops with cancel)."""
    coro = run_async(prepared.body, prepared.body_async, prepared.expr, prepared.expr_async, prepared.ns, limit)
    return _asyncio.ensure_future(coro)


def cancel(task):
    if not task.done():
        task.cancel()


def wrap_up(directory, limit):
    """After the code, still inside its time limit: render the figures it left open (see
    save_figures), then flush stdout and stderr."""
    save_figures(directory, limit)
    for stream in (_sys.stdout, _sys.stderr):
        try:
            stream.flush()
        except Exception:  # a replaced or closed stream must not fail the run
            pass


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


_OWN_FILES = ("<runner>", "<harness>", "<shims>", "<compat_")
# The import machinery's frames (about 20 of them for an import that fails deep down).
_IMPORT_FILES = ("<frozen importlib.", "/importlib/__init__.py")


def _internal_frame(filename):
    # Pyodide's, the harness's and the compatibility modules' frames, the import machinery's, and
    # the JavaScript frames Pyodide puts into a JsException's traceback (file:///…/build/…,
    # node:internal/…, wasm://…): host paths.
    return (
        "/_pyodide/" in filename
        or filename.startswith(_OWN_FILES)
        or filename.startswith(_IMPORT_FILES[0])
        or filename.endswith(_IMPORT_FILES[1])
        or "://" in filename
        or filename.startswith("node:")
    )


def _trim(te):
    # Drop the frames above the user's first one (runner, event loop, Pyodide), and below it
    # the sandbox's own and the import machinery's (library frames stay). A syntax
    # error in the code has no frames of its own: the compiler's are noise.
    seen = set()
    while te is not None and id(te) not in seen:
        seen.add(id(te))
        if getattr(te, "filename", None) == USER_FILENAME:  # set only for SyntaxError
            te.stack = _traceback.StackSummary.from_list([])
            te = te.__cause__ or te.__context__
            continue
        frames = list(te.stack)
        first = next((i for i, f in enumerate(frames) if f.filename == USER_FILENAME), 0)
        te.stack = _traceback.StackSummary.from_list([f for f in frames[first:] if not _internal_frame(f.filename)])
        te = te.__cause__ or te.__context__
