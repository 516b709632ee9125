/**
 * The interactive `bot-bottle supervise` (docs/cli.md#supervise, docs/decisions/supervise-tui.md):
 * pending proposals of every bottle, oldest first, refreshed every second; detail, approve, modify
 * in $VISUAL/$EDITOR, reject with a reason; a bell (and a desktop notification where the terminal
 * shows one) on arrivals. node:readline-free raw input + ANSI, no curses. The store is reached
 * through a TuiSource (types.ts; store-source.ts wires the real one).
 */
import { userInfo } from 'node:os';
import { openStore } from '../../supervise/store/index.js';
import { useColor } from '../output.js';
import { createHostSource } from './host-source.js';
import { REFRESH_MS } from './constants.js';
import { editInEditor } from './editor.js';
import { handleKey, initialState, withItems, type Effect, type TuiState } from './model.js';
import { renderFrame } from './render.js';
import { BELL, CLEAR, desktopNotification, ENTER_SCREEN, LEAVE_SCREEN, parseKeys } from './terminal.js';
import type { TuiProposal, TuiSource } from './types.js';

export type { TuiSource, TuiProposal, TuiDetail, TuiDecision } from './types.js';
export { createStoreSource, type StoreSourceHooks } from './store-source.js';
export { createHostSource, HOST_HOOKS } from './host-source.js';

export interface SupervisorTuiOptions {
  /** The bot-bottle home: the real store and host functions are used (`bot-bottle supervise`). */
  readonly home?: string;
  /** Instead of `home`: any source (tests drive the TUI with a fake). */
  readonly source?: TuiSource;
  /** `<user>` of `operator:<user>` in the audit; default: the login name. */
  readonly operator?: string;
  readonly input?: NodeJS.ReadStream;
  /** The screen; stderr by default (docs/cli.md#conventions: prompts and UI on stderr). */
  readonly output?: NodeJS.WriteStream;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly refreshMs?: number;
  readonly now?: () => Date;
}

/** Resolves with the exit code: 0 on `q`, 129/143 on SIGHUP/SIGTERM. Needs TTYs (the caller checks). */
export async function runSupervisorTui(opts: SupervisorTuiOptions): Promise<number> {
  if (opts.source) return runWith(opts.source, opts);
  if (!opts.home) throw new Error('runSupervisorTui needs a home or a source');
  const store = openStore(opts.home, { onNotice: (l) => process.stderr.write(`bot-bottle: notice: ${l}\n`) });
  try {
    return await runWith(createHostSource(store, opts.home, opts.operator ?? loginName()), opts);
  } finally {
    store.close();
  }
}

function loginName(): string {
  try {
    return userInfo().username || process.env.USER || 'unknown';
  } catch {
    return process.env.USER || 'unknown';
  }
}

function runWith(source: TuiSource, opts: SupervisorTuiOptions): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stderr;
  const env = opts.env ?? process.env;
  const now = opts.now ?? (() => new Date());
  const colour = useColor(output);
  let state: TuiState = initialState();
  let error: string | null = null;
  let first = true;
  let busy: Promise<void> = Promise.resolve();
  let suspended = false;
  let done = false;

  const draw = (): void => {
    // nothing after quitting: the shell's screen is back
    if (suspended || done) return;
    const lines = renderFrame(state, {
      now: now(),
      width: output.columns || 100,
      height: output.rows || 30,
      colour,
      heartbeatAge: (slug) => source.heartbeatAge(slug, now()),
      labelColor: (slug) => source.labelColor(slug),
      summary: (p) => safe(() => source.summary(p), '(unreadable payload)'),
      detail: (p) => source.detail(p),
      error,
    });
    output.write(CLEAR + lines.join('\r\n'));
  };

  // Async: the host source's relay may approve arrivals a remembered rule covers (their apply
  // signals egress) before the list is read, so those never show up or ring the bell.
  const refresh = async (): Promise<void> => {
    try {
      await source.tick(now());
      error = null;
    } catch (err) {
      error = (err as Error).message;
    }
    let items: readonly TuiProposal[] = state.items;
    try {
      items = source.listPending();
    } catch (err) {
      error = (err as Error).message;
    }
    const r = withItems(state, items);
    state = r.state;
    // The first list is the backlog, not an arrival.
    if (!first && r.arrivals.length > 0) {
      const a = r.arrivals;
      const body = a.length === 1 ? `${a[0]!.bottle}: ${a[0]!.kind}` : `${a.length} new proposals`;
      output.write(BELL + desktopNotification(env, 'bot-bottle supervise', body));
    }
    first = false;
  };

  const setRaw = (on: boolean): void => {
    if (input.isTTY) input.setRawMode(on);
  };

  const modify = async (id: string, startText?: string): Promise<void> => {
    const p = state.items.find((x) => x.id === id);
    if (!p) return;
    const original = source.editText(p);
    suspended = true;
    setRaw(false);
    output.write(LEAVE_SCREEN);
    const r = editInEditor(startText ?? original, p.kind === 'capability-block' ? 'Dockerfile' : `proposal-${p.id}.yaml`, env);
    output.write(ENTER_SCREEN);
    setRaw(true);
    suspended = false;
    if ('error' in r) {
      state = { ...state, message: r.error };
      return;
    }
    if (r.text === original) {
      state = { ...state, message: 'no change: nothing sent (a approves as filed)' };
      return;
    }
    let payload: unknown;
    try {
      payload = source.parseEdit(p, r.text);
    } catch (err) {
      state = { ...state, editError: { id, text: r.text, problems: (err as Error).message } };
      return;
    }
    await decide({ type: 'decide', id, decision: 'approved' }, payload);
  };

  const decide = async (e: Extract<Effect, { type: 'decide' }>, modifiedPayload?: unknown): Promise<void> => {
    try {
      const line = await source.decide({
        id: e.id,
        decision: modifiedPayload !== undefined ? 'modified' : e.decision,
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
        ...(e.decision === 'rejected' && e.reason !== undefined ? { notes: e.reason } : {}),
        ...(modifiedPayload !== undefined ? { modifiedPayload } : {}),
        ...(e.remember !== undefined ? { remember: e.remember } : {}),
      });
      state = { ...state, message: line };
    } catch (err) {
      state = { ...state, message: `not recorded: ${(err as Error).message}` };
    }
  };

  return new Promise<number>((resolve) => {
    const finish = (code: number): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      input.off('data', onData);
      for (const [sig, fn] of signals) process.off(sig, fn);
      output.off('resize', draw);
      setRaw(false);
      input.pause();
      output.write(LEAVE_SCREEN);
      resolve(code);
    };
    const perform = async (effect: Effect): Promise<void> => {
      if (effect.type === 'quit') return finish(0);
      if (effect.type === 'modify') await modify(effect.id, effect.text);
      else await decide(effect);
      await refresh();
    };
    const onData = (chunk: Buffer | string): void => {
      const keys = parseKeys(chunk.toString());
      // Keys are handled in order; a decision or an editor session finishes before the next key.
      busy = busy.then(async () => {
        for (const key of keys) {
          if (done) return;
          const r = handleKey(state, key);
          state = r.state;
          if (r.effect) await perform(r.effect);
          draw();
        }
      });
    };
    const signals: Array<[NodeJS.Signals, () => void]> = [
      ['SIGTERM', () => finish(143)],
      ['SIGHUP', () => finish(129)],
    ];
    for (const [sig, fn] of signals) process.on(sig, fn);
    output.write(ENTER_SCREEN);
    setRaw(true);
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
    output.on('resize', draw);
    busy = busy.then(async () => {
      await refresh();
      draw();
    });
    const timer = setInterval(() => {
      busy = busy.then(async () => {
        if (done || suspended) return;
        await refresh();
        draw();
      });
    }, opts.refreshMs ?? REFRESH_MS);
  });
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}
