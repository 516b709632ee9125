/**
 * `~/.codex/config.toml` (docs/configuration.md §3.2): trust the workdir, register supervise over
 * MCP.
 */
import { AGENT_TOOL_TIMEOUT_SECONDS } from '../../supervise/config.js';

/** TOML basic string: quotes, backslashes and control characters escaped. */
export function tomlString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * `superviseMcpUrl` null: no supervise server, so none is configured. The tool timeout outlasts the
 * daemon's own wait (docs/architecture.md §7a).
 */
export function codexConfigToml(workdir: string, superviseMcpUrl: string | null): string {
  const lines = ['cli_auth_credentials_store = "file"', '', `[projects.${tomlString(workdir)}]`, 'trust_level = "trusted"', ''];
  if (superviseMcpUrl !== null) lines.push('[mcp_servers.supervise]', `url = ${tomlString(superviseMcpUrl)}`, `tool_timeout_sec = ${AGENT_TOOL_TIMEOUT_SECONDS}`, '');
  return lines.join('\n');
}
