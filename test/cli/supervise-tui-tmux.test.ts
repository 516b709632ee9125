/**
 * The supervise TUI in a real terminal (tmux send-keys + capture-pane) against a real store in a
 * temp BOT_BOTTLE_HOME: proposals filed through the spool as the daemon writes them, then approve,
 * reject with a reason, modify through a scripted $EDITOR, an arrival while running, and quit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/supervise/store/index.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { fileProposal, testHome } from '../supervise/store-helpers.js';

const hasTmux = spawnSync('sh', ['-c', 'command -v tmux'], { stdio: 'ignore' }).status === 0;
const TSX_LOADER = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const RUNNER = join(REPO_ROOT, 'test', 'cli', 'fixtures', 'supervise-tui-run.ts');

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 150));
  }
  return cond();
}

describe.skipIf(!hasTmux)('supervise TUI in tmux on a real store', () => {
  const t = testHome('bb-tui-');
  const sock = `bbtui-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' });
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'tui');
  afterAll(() => {
    spawnSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore' });
    t.cleanup();
  });

  it('approve, reject with a reason, modify in $EDITOR, an arrival, quit — each recorded in the store', async () => {
    const alpha = t.spool('alpha-aaaaa');
    const beta = t.spool('beta-bbbbb');
    const p1 = fileProposal(alpha, 'alpha-aaaaa');
    const p2 = fileProposal(beta, 'beta-bbbbb', { kind: 'secret-allow', origin: 'git-gate', justification: null, payload: { repo: 'app', findings: [{ rule: 'aws', masked: 'AKIA…(20)' }] } });
    const p3 = fileProposal(alpha, 'alpha-aaaaa');
    // The scripted editor narrows the proposed path, as an operator would.
    const editor = join(t.home, 'narrow.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s#/simple/#/simple/requests/#" "$1"\n');
    chmodSync(editor, 0o755);
    const cmd = `env BOT_BOTTLE_HOME='${t.home}' EDITOR='${editor}' VISUAL= NO_COLOR=1 TERM=xterm '${process.execPath}' --import '${TSX_LOADER}' '${RUNNER}'; sleep 60`;
    tmux('new-session', '-d', '-s', 'tui', '-x', '180', '-y', '40', cmd);

    expect(await until(() => screen().includes('3 pending'), 30_000), screen()).toBe(true);
    const s0 = screen();
    // FIFO by host arrival: one refresh imports alpha's spool (p1, p3), then beta's (p2)
    expect(s0.indexOf(p1)).toBeLessThan(s0.indexOf(p3));
    expect(s0.indexOf(p3)).toBeLessThan(s0.indexOf(p2));
    expect(s0).toMatch(new RegExp(`> ${p1}`));

    // Enter: detail with the justification; Enter again: back
    tmux('send-keys', '-t', 'tui', 'Enter');
    expect(await until(() => screen().includes('justification:'), 10_000), screen()).toBe(true);
    tmux('send-keys', '-t', 'tui', 'Enter');

    tmux('send-keys', '-t', 'tui', 'a');
    expect(await until(() => screen().includes('2 pending'), 10_000), screen()).toBe(true);
    expect(screen()).toContain(`approved ${p1}`);

    // p3 is now selected: modify through $EDITOR
    tmux('send-keys', '-t', 'tui', 'm');
    expect(await until(() => screen().includes('1 pending'), 15_000), screen()).toBe(true);
    expect(screen()).toContain(`modified ${p3}`);

    // p2 (secret-allow): reject needs a reason
    tmux('send-keys', '-t', 'tui', 'r');
    expect(await until(() => screen().includes(`Reason for rejecting ${p2}`), 10_000), screen()).toBe(true);
    tmux('send-keys', '-t', 'tui', '-l', 'too risky');
    tmux('send-keys', '-t', 'tui', 'Enter');
    expect(await until(() => screen().includes('0 pending'), 10_000), screen()).toBe(true);
    expect(screen()).toContain('No pending proposals.');

    // an arrival while running shows up within a refresh or two
    const p4 = fileProposal(beta, 'beta-bbbbb');
    expect(await until(() => screen().includes(p4), 10_000), screen()).toBe(true);

    tmux('send-keys', '-t', 'tui', 'q');
    expect(await until(() => screen().includes('TUI-EXIT=0'), 10_000), screen()).toBe(true);

    const store = openStore(t.home);
    try {
      expect(store.get(p1)?.response).toMatchObject({ decision: 'approved', operator: 'tester' });
      expect(store.get(p2)?.response).toMatchObject({ decision: 'rejected', reason: 'too risky' });
      const m = store.get(p3)?.response;
      expect(m?.decision).toBe('modified');
      expect(JSON.stringify(m?.modifiedPayload)).toContain('/simple/requests/');
      expect(store.get(p4)?.state).toBe('pending');
    } finally {
      store.close();
    }
    // the TUI's refresh delivered the answers back through the spool
    expect(await until(() => existsSync(join(alpha, 'inbox', `${p1}.json`)), 5_000)).toBe(true);
    expect(JSON.parse(readFileSync(join(beta, 'inbox', `${p2}.json`), 'utf8'))).toMatchObject({ decision: 'rejected', reason: 'too risky' });
  }, 120_000);
});
