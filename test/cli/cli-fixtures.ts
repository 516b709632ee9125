/** Temp HOME / BOT_BOTTLE_HOME / cwd for CLI tests, plus a snapshot of every file under a dir. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { tempTree } from '../manifest/helpers.js';

export interface CliEnv {
  readonly root: string;
  readonly home: string; // BOT_BOTTLE_HOME
  readonly userHome: string; // HOME
  readonly cwd: string;
  readonly env: Record<string, string>;
  write(rel: string, text: string): string;
  cleanup(): void;
}

export function cliEnv(): CliEnv {
  const t = tempTree({ homeDir: 'bbhome', prefix: 'bb-cli-' });
  return { ...t, env: { BOT_BOTTLE_HOME: t.home, HOME: t.userHome } };
}

/** path → content/mode of every entry under dir (directories too), for "nothing written" checks. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) {
        out[`${rel}/`] = `dir ${st.mode.toString(8)} ${st.mtimeMs}`;
        walk(p);
      } else out[rel] = `${st.mode.toString(8)} ${st.mtimeMs} ${readFileSync(p, 'utf8')}`;
    }
  };
  walk(dir);
  return out;
}

export function fm(yaml: string, body = ''): string {
  return `---\n${yaml}\n---\n${body}`;
}
