/**
 * Standard-library modules imported before the snapshot is taken, so a run that uses them pays
 * nothing to import them: every call starts from the worker's reset point, which is made from
 * this snapshot, so a module not listed here is imported afresh by every call that uses it.
 *
 * Chosen by measurement (a fresh interpreter, on this project's 2-core machine): the modules
 * agents' code imports most, with those that cost most to import first (email.message 180 ms,
 * unittest 130 ms, email.policy 117 ms, argparse 93 ms, logging.handlers 93 ms, tarfile 77 ms,
 * xml 50–70 ms, http.client 50 ms…). All of them together grow the heap by about 6 MiB.
 * Left out: modules that cannot work here (multiprocessing, subprocess, smtplib and other
 * network clients, webbrowser) and tools nobody runs in a sandbox (pydoc, profilers).
 */
export const WARM_IMPORTS = [
  // The harness's own imports first.
  'ast', 'asyncio', 'ctypes', 'linecache', 'traceback', 'types', 'gc', 'signal',
  // Data, text and numbers.
  'json', 're', 'math', 'cmath', 'random', 'datetime', 'calendar', 'zoneinfo', 'collections', 'collections.abc',
  'itertools', 'functools', 'operator', 'decimal', 'fractions', 'numbers', 'statistics', 'string', 'textwrap',
  'difflib', 'unicodedata', 'locale', 'dataclasses', 'typing', 'enum', 'abc', 'contextlib', 'copy', 'heapq',
  'bisect', 'array', 'struct', 'graphlib', 'pprint', 'reprlib', 'keyword', 'tokenize', 'inspect', 'weakref',
  'queue', 'threading', 'sched', 'uuid', 'secrets', 'hmac', 'hashlib', 'base64', 'binascii', 'ipaddress',
  'colorsys', 'timeit', 'warnings',
  // Files and formats.
  'io', 'os', 'stat', 'pathlib', 'shutil', 'glob', 'fnmatch', 'filecmp', 'fileinput', 'tempfile', 'csv',
  'pickle', 'shelve', 'configparser', 'tomllib', 'plistlib', 'zlib', 'gzip', 'bz2', 'lzma', 'zipfile', 'tarfile',
  'sqlite3', 'mimetypes', 'wave',
  // Markup, mail and the web's formats (parsing, not connecting).
  'html', 'html.parser', 'xml.etree.ElementTree', 'xml.dom.minidom', 'email', 'email.message', 'email.policy',
  'email.utils', 'email.mime.text', 'email.mime.multipart', 'urllib.parse', 'urllib.request', 'http', 'http.client',
  // Programs, tests and logs.
  'argparse', 'optparse', 'getopt', 'shlex', 'getpass', 'platform', 'logging', 'logging.handlers', 'unittest',
  'doctest', 'concurrent.futures',
];
