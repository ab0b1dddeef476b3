/**
 * Standard-library modules imported before the snapshot is taken, so runs that use them pay
 * nothing to import them. The harness's own imports come first.
 */
export const WARM_IMPORTS = [
  'ast', 'asyncio', 'ctypes', 'linecache', 'traceback', 'types', 'gc', 'signal', 'json', 're', 'math',
  'random', 'datetime', 'collections', 'itertools', 'functools', 'decimal', 'fractions', 'statistics',
  'string', 'textwrap', 'dataclasses', 'typing', 'enum', 'io', 'csv', 'base64', 'hashlib', 'struct',
  'zlib', 'copy', 'heapq', 'bisect', 'operator', 'pathlib', 'pprint', 'uuid', 'warnings',
];
