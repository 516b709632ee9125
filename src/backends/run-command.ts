/** Small promise wrapper around spawn for the host tools backends drive (ip, nft, …). */
import { spawn } from 'node:child_process';

/**
 * The whole environment of the root-side helpers backends spawn (ip, nft, tar, and the sandbox
 * chain's sh, mount, setpriv, bwrap): nothing inherited from the launcher or the agent
 * (docs/decisions/netns-clean-env.md). The tools are named by absolute path; PATH only serves
 * what they run by name themselves (the stage script's mkdir).
 */
export const HELPER_ENV: Readonly<Record<string, string>> = Object.freeze({ PATH: '/usr/sbin:/usr/bin:/sbin:/bin' });

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` with HELPER_ENV unless `opts.env` says otherwise. */
export function runCommand(command: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { env: opts.env ?? { ...HELPER_ENV }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + e.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}
