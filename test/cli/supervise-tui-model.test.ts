/** The supervise TUI's pure parts: key handling, list refresh, frames, key parsing, notifications. */
import { describe, expect, it } from 'vitest';
import { handleKey, initialState, withItems, type Key, type TuiState } from '../../src/cli/supervise-tui/model.js';
import { renderFrame, type FrameContext } from '../../src/cli/supervise-tui/render.js';
import { desktopNotification, parseKeys } from '../../src/cli/supervise-tui/terminal.js';
import type { TuiProposal } from '../../src/cli/supervise-tui/types.js';

const NOW = new Date('2026-12-05T12:00:00Z');
const prop = (id: string, kind: TuiProposal['kind'] = 'egress-allow', bottle = 'impl-k3x9q', ageS = 30): TuiProposal => ({
  id, seq: Number(id.replace(/\D/g, '')) || 1, bottle, kind, justification: 'the task needs the package index',
  payload: { routes: [{ host: 'pypi.org' }] },
  createdAt: new Date(NOW.getTime() - ageS * 1000).toISOString(), expiresAt: new Date(NOW.getTime() + 570_000).toISOString(),
});
const ch = (c: string): Key => ({ name: 'char', ch: c });
function keys(s: TuiState, ...ks: Key[]) {
  let st = s;
  let effect;
  for (const k of ks) ({ state: st, effect } = handleKey(st, k));
  return { state: st, effect };
}
const ctx = (over: Partial<FrameContext> = {}): FrameContext => ({
  now: NOW, width: 140, height: 30, colour: false,
  heartbeatAge: (slug) => (slug === 'gone-aaaaa' ? 40 : 2), labelColor: () => 'red',
  summary: (p) => `summary of ${p.id}`, detail: () => ({ text: '--- live routes\n+++ after approval\n+- host: pypi.org\n', warnings: ['wildcard host'] }),
  ...over,
});

describe('model', () => {
  const base = withItems(initialState(), [prop('p1'), prop('p2', 'secret-allow'), prop('p3', 'egress-token-allow')]).state;

  it('j/k and arrows move within bounds; the first list is all "arrivals" only to the caller', () => {
    expect(base.selectedId).toBe('p1');
    expect(keys(base, ch('j'), { name: 'down' }, ch('j')).state.selectedId).toBe('p3');
    expect(keys(base, ch('j'), ch('k'), { name: 'up' }).state.selectedId).toBe('p1');
  });

  it('a on egress-allow decides at once; on sidecar kinds it asks for a non-empty reason first', () => {
    expect(keys(base, ch('a')).effect).toEqual({ type: 'decide', id: 'p1', decision: 'approved' });
    const asked = keys(base, ch('j'), ch('a'));
    expect(asked.effect).toBeUndefined();
    expect(asked.state.prompt).toEqual({ action: 'approved', id: 'p2', text: '' });
    const empty = keys(asked.state, ch(' '), { name: 'enter' });
    expect(empty.effect).toBeUndefined();
    expect(empty.state.message).toContain('a reason is required');
    const sent = keys(asked.state, ...[...'ok, test key'].map(ch), { name: 'backspace' }, { name: 'enter' });
    expect(sent.effect).toEqual({ type: 'decide', id: 'p2', decision: 'approved', reason: 'ok, test ke' });
  });

  it('A asks for the scope (b/g/f), then approves and remembers; sidecar kinds then ask for a reason; Esc cancels', () => {
    const asked = keys(base, ch('A'));
    expect(asked.effect).toBeUndefined();
    expect(asked.state.rememberPick).toEqual({ id: 'p1' });
    expect(renderFrame(asked.state, ctx()).join('\n')).toContain('remember it for: b this bottle, g this agent, f the bottle file');
    // Other keys are not commands while the scope is asked (q does not quit, a does not approve).
    expect(keys(asked.state, ch('q'), ch('a')).effect).toBeUndefined();
    expect(keys(asked.state, ch('b')).effect).toEqual({ type: 'decide', id: 'p1', decision: 'approved', remember: 'bottle' });
    expect(keys(asked.state, ch('g')).effect).toEqual({ type: 'decide', id: 'p1', decision: 'approved', remember: 'agent' });
    expect(keys(asked.state, ch('f')).effect).toEqual({ type: 'decide', id: 'p1', decision: 'approved', remember: 'file' });
    expect(keys(asked.state, { name: 'escape' }).state.rememberPick).toBeNull();
    const secret = keys(base, ch('j'), ch('A'), ch('f'));
    expect(secret.effect).toBeUndefined();
    expect(secret.state.message).toContain('only egress-allow routes can be written into the bottle file');
    const withReason = keys(secret.state, ch('b'), ...[...'fixture'].map(ch), { name: 'enter' });
    expect(withReason.effect).toEqual({ type: 'decide', id: 'p2', decision: 'approved', reason: 'fixture', remember: 'bottle' });
    const cap = keys(withItems(initialState(), [prop('c1', 'capability-block')]).state, ch('A'));
    expect(cap.state.rememberPick).toBeNull();
    expect(cap.state.message).toContain('never remembered');
  });

  it('r always asks for a reason; Esc cancels; m is refused for sidecar kinds', () => {
    const r = keys(base, ch('r'), ...[...'too broad'].map(ch), { name: 'enter' });
    expect(r.effect).toEqual({ type: 'decide', id: 'p1', decision: 'rejected', reason: 'too broad' });
    expect(keys(base, ch('r'), ch('x'), { name: 'escape' }).state.prompt).toBeNull();
    expect(keys(base, ch('m')).effect).toEqual({ type: 'modify', id: 'p1' });
    const m = keys(base, ch('j'), ch('m'));
    expect(m.effect).toBeUndefined();
    expect(m.state.message).toContain('secret-allow cannot be modified');
  });

  it('keys typed into the reason prompt are text, not commands (q does not quit)', () => {
    const r = keys(base, ch('r'), ch('q'), ch('a'), ch('j'));
    expect(r.effect).toBeUndefined();
    expect(r.state.prompt?.text).toBe('qaj');
  });

  it('refresh: the selection follows its proposal; a proposal decided elsewhere drops its prompt; new ids are arrivals', () => {
    const onP2 = keys(base, ch('j'), ch('r')).state;
    const after = withItems(onP2, [prop('p1'), prop('p3', 'egress-token-allow'), prop('p4')]);
    expect(after.arrivals.map((p) => p.id)).toEqual(['p4']);
    expect(after.state.prompt).toBeNull();
    expect(after.state.message).toContain('p2 is no longer pending');
    expect(after.state.selectedId).toBe('p3');
    expect(withItems(after.state, []).state.selectedId).toBeNull();
  });

  it('an invalid edit offers e (edit again with the same text) or c (cancel)', () => {
    const s = { ...base, editError: { id: 'p1', text: 'routes: [', problems: 'line 1: bad' } };
    expect(keys(s, ch('e')).effect).toEqual({ type: 'modify', id: 'p1', text: 'routes: [' });
    expect(keys(s, ch('c')).state.editError).toBeNull();
    expect(keys(s, ch('q')).effect).toBeUndefined(); // must answer e or c
  });
});

describe('frames', () => {
  const s = withItems(initialState(), [prop('p1'), prop('p2', 'capability-block', 'gone-aaaaa', 75)]).state;

  it('list: FIFO rows with id, age, bottle (offline marked), kind, expiry, summary; selection marked without colour', () => {
    const lines = renderFrame(s, ctx());
    expect(lines[0]).toContain('2 pending');
    const rows = lines.filter((l) => /p[12]\s/.test(l));
    expect(rows[0]).toMatch(/^> p1\s+30s\s+impl-k3x9q\s+egress-allow\s+9m30s\s+summary of p1$/);
    expect(rows[1]).toMatch(/^ {2}p2\s+1m15s\s+gone-aaaaa \(offline\)\s+capability-block/);
    expect(lines.join('\n')).not.toContain('\u001b');
  });

  it('colour on: label colour and reverse video; NO_COLOR path above has none', () => {
    const text = renderFrame(withItems(s, s.items).state, ctx({ colour: true })).join('\n');
    expect(text).toContain('\u001b[7m> p1');
    expect(text).toContain('\u001b[31mgone-aaaaa\u001b[0m');
  });

  it('detail: justification, warnings and the diff; empty list says so', () => {
    const d = renderFrame(keys(s, { name: 'enter' }).state, ctx()).join('\n');
    expect(d).toContain('justification:\n  the task needs the package index');
    expect(d).toContain('! wildcard host');
    expect(d).toContain('+- host: pypi.org');
    expect(renderFrame(initialState(), ctx()).join('\n')).toContain('No pending proposals.');
  });
});

describe('terminal', () => {
  it('parses arrows, Enter, Esc, Backspace, Ctrl-C and text; ignores other CSI sequences', () => {
    expect(parseKeys('\u001b[A\u001bOBj\r\u007f\u0003\u001b[15~x\u001b')).toEqual([
      { name: 'up' }, { name: 'down' }, { name: 'char', ch: 'j' }, { name: 'enter' }, { name: 'backspace' }, { name: 'ctrl-c' }, { name: 'char', ch: 'x' }, { name: 'escape' },
    ]);
  });

  it('desktop notification only where the terminal is known to show one; never inside tmux; control chars stripped', () => {
    expect(desktopNotification({ TERM_PROGRAM: 'iTerm.app' }, 't', 'a\u0007b')).toBe('\u001b]9;t: a b\u0007');
    expect(desktopNotification({ VTE_VERSION: '7600', TERM: 'xterm-256color' }, 't', 'x;y')).toBe('\u001b]777;notify;t;x y\u0007');
    expect(desktopNotification({ TERM_PROGRAM: 'iTerm.app', TMUX: '/tmp/x' }, 't', 'b')).toBe('');
    expect(desktopNotification({ TERM: 'xterm' }, 't', 'b')).toBe('');
  });
});
