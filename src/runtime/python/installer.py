"""micropip, driven by the installer worker (which never runs user code).

install() resolves and installs requirements in this interpreter and reports what it added, with
each package's wheel (URL or distribution file name) and sha256, so that the execution workers can
load exactly the same files from the local cache.
"""

import json

import micropip
import pyodide_js
from micropip._vendored.packaging.src.packaging.utils import canonicalize_name

_LOCK = pyodide_js._api.lockfile_packages.to_py()


def _installed():
    return {canonicalize_name(name): pkg.version for name, pkg in micropip.list().items()}


async def install(requirements, index_urls):
    micropip.set_index_urls(list(index_urls))
    before = _installed()
    try:
        await micropip.install(list(requirements), keep_going=True)
    except Exception as exc:  # noqa: BLE001 - every failure is reported, with its type
        return json.dumps({"ok": False, "type": type(exc).__name__, "message": str(exc)})
    after = _installed()
    frozen = json.loads(micropip.freeze())["packages"]
    added = []
    for name, version in after.items():
        if before.get(name) == version:
            continue
        entry = frozen.get(name, {})
        in_dist = _LOCK.get(name, {}).get("version") == version
        added.append(
            {
                "name": name,
                "version": version,
                "kind": "dist" if in_dist else "wheel",
                # A distribution package by its lockfile name; a wheel by the URL it came from.
                "file_name": _LOCK[name]["file_name"] if in_dist else entry.get("file_name"),
                "sha256": _LOCK[name]["sha256"] if in_dist else entry.get("sha256"),
                "depends": [canonicalize_name(d) for d in entry.get("depends", [])],
            }
        )
    return json.dumps({"ok": True, "added": added, "installed": after})
