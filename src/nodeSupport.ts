/**
 * The Node versions the server runs on, checked by the bin entry before anything else loads.
 * Measured: 20.18 under the permission flags reads build/index.js as CommonJS ("Cannot use import
 * statement outside a module"), 22.11 starts no worker under them ("EvalError: Code generation
 * from strings disallowed"), 18 knows none of the flags. This module
 * imports nothing, so an old Node gets as far as this message.
 */
export const SUPPORTED_NODE = '^20.19.0 || >=22.12.0';

/** The refusal for this Node version, or undefined when it is supported. */
export function nodeRefusal(version: string): string | undefined {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  const supported = major === 20 ? minor >= 19 : major === 22 ? minor >= 12 : major > 22;
  if (supported) return undefined;
  return (
    `mcp-python-executor: Node.js ${version.replace(/^v?/, 'v')} is not supported; it needs Node.js ${SUPPORTED_NODE} ` +
    '(20.19 or later in 20.x, 22.12 or later, or 23 and up). Install a current LTS from https://nodejs.org and start it again.\n'
  );
}
