/**
 * The interactive `bot-bottle supervise` in a real terminal (tmux send-keys + capture-pane): the
 * real CLI, the real store in a temp BOT_BOTTLE_HOME, proposals filed through the spool as the
 * daemon writes them, the real host apply. Approve (routes generation + 1), detail with the diff,
 * modify through a scripted $EDITOR (the narrowed route is what gets applied), approve of a sidecar
 * kind with a reason, reject with a reason, an arrival while running, quit.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/supervise/store/index.js';
import { CLI_MAIN, TSX_LOADER } from '../helpers/cli.js';
import { hasTmux, tmuxServer, until } from '../helpers/tmux.js';
import { bottleState, fileProposal, LIVE_ROUTES, testHome } from '../supervise/store-helpers.js';


/** The SGR parameter strings (`7`, `31`, …) in a `capture-pane -e` dump. */
function sgrCodes(pane: string): string[] {
  return pane
    .split(String.fromCharCode(27))
    .slice(1)
    .flatMap((part) => /^\[([0-9;]*)m/.exec(part)?.[1] ?? [])
    .filter((code) => code !== '' && code !== '0');
}

describe.skipIf(!hasTmux)('bot-bottle supervise (TUI) in tmux on a real store', () => {
  const t = testHome('bb-tui-');
  const server = tmuxServer('bbtui');
  const tmux = server.tmux;
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'tui');
  const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'tui', ...k);
  afterAll(() => {
    server.kill();
    t.cleanup();
  });

  it('approve, detail, modify in $EDITOR, approve with a reason, reject with a reason, arrival, quit', async () => {
    const routesFile = bottleState(t, 'alpha-1', LIVE_ROUTES);
    const alpha = t.spool('alpha-1');
    const beta = t.spool('beta-2');
    const p1 = fileProposal(alpha, 'alpha-1');
    const p2 = fileProposal(alpha, 'alpha-1', { payload: { routes: [{ host: 'files.pythonhosted.org', matches: [{ paths: [{ type: 'prefix', value: '/packages/' }], methods: ['GET'] }] }] } });
    const p3 = fileProposal(beta, 'beta-2', { kind: 'egress-token-allow', origin: 'egress', justification: null, payload: { host: 'api.example.com', method: 'POST', path: '/v1/upload', findings: [{ rule: 'github_token', surface: 'body', masked: 'ghp_…(40)', fingerprint: '9f2c4e1a' }] } });
    const p4 = fileProposal(beta, 'beta-2', { kind: 'secret-allow', origin: 'git-gate', justification: null, payload: { repo: 'webapp', findings: [{ commit: 'abc123', file: 'a.env', line: 3, rule: 'aws_access_key', masked_line: 'AKIA…(20)', reason: 'fixture' }] } });
    // The scripted editor narrows the proposed path, as an operator would.
    const editor = join(t.home, 'narrow.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s#/packages/#/packages/ab/#" "$1"\n');
    chmodSync(editor, 0o755);
    const cmd = `env BOT_BOTTLE_HOME='${t.home}' EDITOR='${editor}' VISUAL= NO_COLOR=1 TERM=xterm '${process.execPath}' --import '${TSX_LOADER}' '${CLI_MAIN}' supervise; echo TUI-EXIT=$?; sleep 60`;
    tmux('new-session', '-d', '-s', 'tui', '-x', '200', '-y', '50', cmd);

    expect(await until(() => screen().includes('4 pending'), 40_000), screen()).toBe(true);
    const s0 = screen();
    // FIFO by host arrival: one refresh imports alpha's spool (p1, p2), then beta's (p3, p4)
    const at = [p1, p2, p3, p4].map((id) => s0.indexOf(id));
    expect(at.every((x) => x >= 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(s0).toContain(`> ${p1}`);
    expect(s0).toMatch(/alpha-1 \(offline\)/); // no heartbeat: its daemon is not running
    // NO_COLOR on a terminal: no SGR attributes at all in the pane (the selection is the `>`)
    expect(sgrCodes(tmux('capture-pane', '-p', '-e', '-t', 'tui'))).toEqual([]);

    // Enter: the diff of live vs merged routes; Enter again: back
    keys('Enter');
    expect(await until(() => screen().includes('+++ after approval'), 10_000), screen()).toBe(true);
    expect(screen()).toMatch(/^\+.*pypi\.org/m);
    keys('Enter');

    keys('a');
    expect(await until(() => screen().includes('3 pending'), 15_000), screen()).toBe(true);
    expect(screen()).toContain(`approved ${p1}; routes generation 5`);
    expect(readFileSync(routesFile, 'utf8')).toContain('pypi.org');

    // p2 selected: modify through $EDITOR → the narrowed route is applied
    keys('m');
    expect(await until(() => screen().includes('2 pending'), 15_000), screen()).toBe(true);
    expect(screen()).toContain(`modified ${p2}; routes generation 6`);
    expect(readFileSync(routesFile, 'utf8')).toContain('/packages/ab/');

    // p3 (egress-token-allow): approving asks for a reason
    keys('a');
    expect(await until(() => screen().includes(`Reason for approving ${p3}`), 10_000), screen()).toBe(true);
    keys('-l', 'needed for the upload test');
    keys('Enter');
    expect(await until(() => screen().includes('1 pending'), 10_000), screen()).toBe(true);

    // p4 (secret-allow): reject with a reason
    keys('r');
    expect(await until(() => screen().includes(`Reason for rejecting ${p4}`), 10_000), screen()).toBe(true);
    keys('-l', 'too risky');
    keys('Enter');
    expect(await until(() => screen().includes('0 pending'), 10_000), screen()).toBe(true);
    expect(screen()).toContain('No pending proposals.');

    // an arrival while running shows up within a refresh or two
    const p5 = fileProposal(beta, 'beta-2');
    expect(await until(() => screen().includes(p5), 10_000), screen()).toBe(true);

    keys('q');
    expect(await until(() => screen().includes('TUI-EXIT=0'), 10_000), screen()).toBe(true);

    const store = openStore(t.home);
    try {
      expect(store.get(p1)?.response).toMatchObject({ decision: 'approved' });
      expect(store.get(p2)?.response?.decision).toBe('modified');
      expect(JSON.stringify(store.get(p2)?.response?.modifiedPayload)).toContain('/packages/ab/');
      expect(store.get(p3)?.response).toMatchObject({ decision: 'approved', reason: 'needed for the upload test' });
      expect(store.get(p4)?.response).toMatchObject({ decision: 'rejected', reason: 'too risky' });
      expect(store.get(p5)?.state).toBe('pending');
    } finally {
      store.close();
    }
    // Without NO_COLOR the same terminal gets colour: the selected row in reverse video.
    tmux('new-session', '-d', '-s', 'colour', '-x', '200', '-y', '20', cmd.replace('NO_COLOR=1', 'NO_COLOR='));
    const coloured = (): string => tmux('capture-pane', '-p', '-e', '-t', 'colour');
    expect(await until(() => coloured().includes(p5), 40_000), coloured()).toBe(true);
    expect(sgrCodes(coloured())).toContain('7');
    tmux('send-keys', '-t', 'colour', 'q');

    // the TUI's relay delivered the answers back through the spools
    expect(JSON.parse(readFileSync(join(alpha, 'inbox', `${p1}.json`), 'utf8'))).toMatchObject({ decision: 'approved', applied: { generation: 5 } });
    expect(JSON.parse(readFileSync(join(beta, 'inbox', `${p4}.json`), 'utf8'))).toMatchObject({ decision: 'rejected', reason: 'too risky' });
  }, 150_000);
});
