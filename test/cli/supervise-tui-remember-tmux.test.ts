/**
 * `A` (approve and remember) in the interactive `bot-bottle supervise`, in a real terminal (tmux):
 * the real CLI and store in a temp BOT_BOTTLE_HOME. `A` then `b` approves and stores a bottle
 * rule; an identical proposal arriving while the view runs is approved by the view's own relay
 * and never shows up as pending; a broader one does.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/supervise/store/index.js';
import { CLI_MAIN, TSX_LOADER } from '../helpers/cli.js';
import { hasTmux, tmuxServer, until } from '../helpers/tmux.js';
import { bottleState, fileProposal, LIVE_ROUTES, testHome } from '../supervise/store-helpers.js';

describe.skipIf(!hasTmux)('bot-bottle supervise (TUI): A remembers', () => {
  const t = testHome('bb-tui-rem-');
  const server = tmuxServer('bbtuirem');
  const tmux = server.tmux;
  const screen = (): string => tmux('capture-pane', '-p', '-t', 'tui');
  const keys = (...k: string[]): void => void tmux('send-keys', '-t', 'tui', ...k);
  afterAll(() => {
    server.kill();
    t.cleanup();
  });

  it('A, b: approved and remembered; the identical arrival is approved by the rule, a broader one waits', async () => {
    bottleState(t, 'alpha-1', LIVE_ROUTES);
    const spool = t.spool('alpha-1');
    const p1 = fileProposal(spool, 'alpha-1');
    const cmd = `env BOT_BOTTLE_HOME='${t.home}' NO_COLOR=1 TERM=xterm '${process.execPath}' --import '${TSX_LOADER}' '${CLI_MAIN}' supervise; echo TUI-EXIT=$?; sleep 60`;
    tmux('new-session', '-d', '-s', 'tui', '-x', '200', '-y', '40', cmd);
    expect(await until(() => screen().includes('1 pending'), 40_000), screen()).toBe(true);

    keys('A');
    expect(await until(() => screen().includes(`Approve ${p1} and remember it for: b this bottle`), 10_000), screen()).toBe(true);
    keys('b');
    expect(await until(() => screen().includes('0 pending'), 15_000), screen()).toBe(true);
    expect(screen()).toContain(`approved ${p1}; routes generation 5`);
    expect(screen()).toContain('remembered as rule 1 (bottle)');

    const same = fileProposal(spool, 'alpha-1');
    const broader = fileProposal(spool, 'alpha-1', { payload: { routes: [{ host: 'pypi.org' }] } });
    expect(await until(() => screen().includes(broader), 15_000), screen()).toBe(true);
    expect(screen()).toContain('1 pending');
    expect(screen()).not.toContain(same);

    keys('q');
    expect(await until(() => screen().includes('TUI-EXIT=0'), 10_000), screen()).toBe(true);
    const store = openStore(t.home, { onNotice: () => undefined });
    try {
      expect(store.get(same)?.response).toMatchObject({ decision: 'approved', operator: 'remembered:bottle' });
      expect(store.get(broader)?.state).toBe('pending');
      expect(store.listRememberRules()).toMatchObject([{ id: 1, scope: 'bottle', subject: 'alpha-1' }]);
    } finally {
      store.close();
    }
  }, 120_000);
});
