"""The operating system as an unprivileged sandbox user sees it: pwd and grp (absent from the
WebAssembly build) describe uid 1000, getpass reads the password from the run's input, os._exit
ends the run like SystemExit (Emscripten's exit kills the interpreter, and the worker with it),
webbrowser says there is no browser, and zoneinfo says where its data comes from.

Run once per worker before its reset point, in a namespace of its own: every call finds it."""
import collections as _collections
import os as _os
import sys as _sys
import types as _types

USER, UID, HOME = "web_user", 1000, "/home/pyodide"
ZONEINFO_DIR = "/usr/share/zoneinfo"


def _module(name, doc, **attributes):
    module = _types.ModuleType(name, doc)
    module.__dict__.update(attributes)
    _sys.modules[name] = module
    return module


# --- pwd and grp: root and the sandbox user ---------------------------------------------------

struct_passwd = _collections.namedtuple("struct_passwd", "pw_name pw_passwd pw_uid pw_gid pw_gecos pw_dir pw_shell")
struct_group = _collections.namedtuple("struct_group", "gr_name gr_passwd gr_gid gr_mem")
_PASSWD = (struct_passwd("root", "x", 0, 0, "root", "/root", "/bin/sh"), struct_passwd(USER, "x", UID, UID, "", HOME, "/bin/sh"))
_GROUPS = (struct_group("root", "x", 0, []), struct_group(USER, "x", UID, []))


def _find(entries, field, value, what):
    for entry in entries:
        if getattr(entry, field) == value:
            return entry
    raise KeyError(f"{what} not found: {value!r}")


_module(
    "pwd", "The password database: root and the sandbox user.",
    struct_passwd=struct_passwd,
    getpwuid=lambda uid: _find(_PASSWD, "pw_uid", uid, "getpwuid(): uid"),
    getpwnam=lambda name: _find(_PASSWD, "pw_name", name, "getpwnam(): name"),
    getpwall=lambda: list(_PASSWD),
)
_module(
    "grp", "The group database: root and the sandbox user's group.",
    struct_group=struct_group,
    getgrgid=lambda gid: _find(_GROUPS, "gr_gid", gid, "getgrgid(): gid"),
    getgrnam=lambda name: _find(_GROUPS, "gr_name", name, "getgrnam(): name"),
    getgrall=lambda: list(_GROUPS),
)


# --- os, getpass, webbrowser -----------------------------------------------------------------


def _exit(status):
    """Like os._exit, as far as the caller can tell: the run ends here with this status."""
    raise SystemExit(status)


_os._exit = _exit
for _name in ("getuid", "geteuid", "getgid", "getegid"):
    setattr(_os, _name, lambda: UID)
_os.getgroups = lambda: [UID]
_os.environ.setdefault("USER", USER)
_os.environ.setdefault("LOGNAME", USER)

import getpass as _getpass  # noqa: E402 - after the environment it reads


def getpass(prompt="Password: ", stream=None):
    """No terminal to turn echo off on: the prompt goes to stderr and the line comes from the
    run's input (inputData), as CPython does when it cannot control echo."""
    (stream or _sys.stderr).write(prompt)
    line = _sys.stdin.readline()
    if not line:
        raise EOFError
    return line.removesuffix("\n")


_getpass.getpass = getpass

import webbrowser as _webbrowser  # noqa: E402


def _no_browser(url, *args, **kwargs):
    raise _webbrowser.Error(f"no web browser is available in this sandbox: print the URL ({url}) instead")


_webbrowser.open = _webbrowser.open_new = _webbrowser.open_new_tab = _no_browser


# --- zoneinfo --------------------------------------------------------------------------------

import zoneinfo as _zoneinfo  # noqa: E402
import zoneinfo._common as _zoneinfo_common  # noqa: E402


def load_tzdata(key):
    # Pyodide's version tells the user to call pyodide.loadPackage('tzdata'), which code here
    # cannot; the zones come from the host's database, mounted at ZONEINFO_DIR (see worker.ts).
    if _os.path.isdir(ZONEINFO_DIR):
        raise _zoneinfo.ZoneInfoNotFoundError(f"No time zone found with key {key}")
    raise _zoneinfo.ZoneInfoNotFoundError(
        f"No time zone found with key {key} (this server's host has no time-zone database at {ZONEINFO_DIR}; "
        "install_packages(['tzdata']) adds one where the package index is reachable)"
    )


_zoneinfo_common.load_tzdata = load_tzdata  # looked up at each call, by the C module too
