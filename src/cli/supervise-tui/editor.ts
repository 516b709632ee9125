/**
 * `modify`: the payload in `$VISUAL`/`$EDITOR` (fallback `vi`; docs/cli.md#environment). The text
 * goes to a 0600 file in a fresh 0700 directory, the editor runs on the terminal, the file is read
 * back and removed whatever happened.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function editorCommand(env: Readonly<Record<string, string | undefined>>): string {
  return env.VISUAL?.trim() || env.EDITOR?.trim() || 'vi';
}

/**
 * Runs the editor on `text` (file `name`, so the editor picks a syntax mode) and returns the edited
 * text, or an error line when the editor could not run or failed. The command is run by `/bin/sh`
 * so `EDITOR="code --wait"` works; the file path is passed as `$1`, never spliced into the line.
 */
export function editInEditor(text: string, name: string, env: Readonly<Record<string, string | undefined>>): { text: string } | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bot-bottle-modify-'));
  try {
    const file = join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    const editor = editorCommand(env);
    const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit', env: env as NodeJS.ProcessEnv });
    if (r.error) return { error: `could not run the editor (${r.error.message}); set VISUAL or EDITOR` };
    if (r.status !== 0) return { error: `the editor exited with ${r.status ?? `signal ${r.signal}`}; nothing was changed` };
    return { text: readFileSync(file, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
