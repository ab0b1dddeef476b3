import { CONFIG_VARIABLES } from './config.js';
import { SUPPORTED_NODE } from './nodeSupport.js';
import { runtimeInfo } from './versions.js';

/**
 * `--help` and `--version`, printed to stdout: these runs are not an MCP session, so stdout is
 * free, and tools that read a version expect it there.
 */
export function answerUsage(args: readonly string[]): void {
  const { version, pythonVersion, pyodideVersion } = runtimeInfo();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(helpText(version));
  } else {
    process.stdout.write(`mcp-python-executor ${version} (Python ${pythonVersion}, Pyodide ${pyodideVersion})\n`);
  }
}

export function helpText(version: string): string {
  return `mcp-python-executor ${version}: an MCP server that runs Python (Pyodide, WebAssembly) for AI agents.

Usage: mcp-python-executor [--stdio | --http [--port N] [--host H]]

  --stdio        serve MCP over stdin/stdout (the default; what MCP clients start)
  --http         serve MCP streamable HTTP at /mcp (same as MCP_TRANSPORT=http)
  --port N       HTTP port, 0 for any free one (HTTP_PORT, default 3000); only with --http
  --host H       HTTP bind address (HTTP_HOST, default 127.0.0.1); only with --http
  --help, -h     print this text
  --version, -v  print the version

Every other setting is an environment variable (see README, Settings):
${wrap(CONFIG_VARIABLES.join(' '), 100, '  ')}
Needs Node.js ${SUPPORTED_NODE}.
`;
}

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(indent + line);
  return `${lines.join('\n')}\n`;
}
