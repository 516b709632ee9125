/**
 * The TUI's state and key handling, pure (docs/decisions/supervise-tui.md): a key and the current
 * state give the next state and at most one effect for index.ts to perform (decide, edit, quit).
 * Keys per docs/cli.md#supervise: ↑/↓ or j/k, Enter detail, a approve, m modify, r reject, ? help,
 * q quit. Rejections and approvals of sidecar kinds ask for a non-empty reason first. `A` approves
 * and remembers (docs/decisions/supervise-remember.md): it asks for the scope — b this bottle,
 * g this agent, f the bottle file — then proceeds as `a`.
 */
import { MODIFIABLE_KINDS, REASON_ON_APPROVE_KINDS } from '../../supervise/store/types.js';
import type { TuiProposal } from './types.js';

export type Key =
  | { name: 'up' | 'down' | 'enter' | 'escape' | 'backspace' | 'ctrl-c' }
  | { name: 'char'; ch: string };

export type RememberChoice = 'bottle' | 'agent' | 'file';

export interface PromptState {
  readonly action: 'approved' | 'rejected';
  readonly id: string;
  readonly text: string;
  /** Set when the approval is also remembered (`A`). */
  readonly remember?: RememberChoice;
}

/** Keys of the scope question after `A`. */
export const REMEMBER_KEYS: Readonly<Record<string, RememberChoice>> = { b: 'bottle', g: 'agent', f: 'file' };

export interface TuiState {
  readonly items: readonly TuiProposal[];
  readonly selectedId: string | null;
  readonly view: 'list' | 'detail' | 'help';
  readonly prompt: PromptState | null;
  /** The last outcome or error, shown on the status line. */
  readonly message: string | null;
  /** Ids seen so far: a new id is an arrival (bell). */
  readonly seen: ReadonlySet<string>;
  /** First shown line of the detail view (↑/↓ scroll there). */
  readonly scroll: number;
  /** An edit that did not validate: its text and problems; `e` edits again, `c`/Esc cancels. */
  readonly editError: { readonly id: string; readonly text: string; readonly problems: string } | null;
  /** `A` was pressed on this proposal: waiting for the scope key (b, g, f; Esc cancels). */
  readonly rememberPick: { readonly id: string } | null;
}

export type Effect =
  | { type: 'decide'; id: string; decision: 'approved' | 'rejected'; reason?: string; remember?: RememberChoice }
  | { type: 'modify'; id: string; text?: string }
  | { type: 'quit' };

export function initialState(): TuiState {
  return { items: [], selectedId: null, view: 'list', prompt: null, message: null, seen: new Set(), scroll: 0, editError: null, rememberPick: null };
}

export function selectedIndex(s: TuiState): number {
  const i = s.items.findIndex((p) => p.id === s.selectedId);
  return i === -1 ? 0 : i;
}

export function selected(s: TuiState): TuiProposal | undefined {
  return s.items[selectedIndex(s)];
}

/**
 * New list from the store. The selection follows its proposal by id; when that one is gone
 * (decided elsewhere, expired) it moves to the row now at its old position. Returns the arrivals.
 */
export function withItems(s: TuiState, items: readonly TuiProposal[]): { state: TuiState; arrivals: TuiProposal[] } {
  const arrivals = items.filter((p) => !s.seen.has(p.id));
  const seen = new Set([...s.seen, ...items.map((p) => p.id)]);
  let selectedId = s.selectedId;
  if (!items.some((p) => p.id === selectedId)) {
    const at = Math.min(selectedIndex(s), Math.max(0, items.length - 1));
    selectedId = items[at]?.id ?? null;
  }
  let view = s.view;
  let prompt = s.prompt;
  let editError = s.editError;
  let message = s.message;
  const gone = (id: string): boolean => !items.some((p) => p.id === id);
  if (prompt && gone(prompt.id)) {
    message = `${prompt.id} is no longer pending (decided elsewhere, expired or withdrawn)`;
    prompt = null;
  }
  let rememberPick = s.rememberPick;
  if (rememberPick && gone(rememberPick.id)) {
    message = `${rememberPick.id} is no longer pending (decided elsewhere, expired or withdrawn)`;
    rememberPick = null;
  }
  if (editError && gone(editError.id)) {
    message = `${editError.id} is no longer pending; the edit was dropped`;
    editError = null;
  }
  if (view === 'detail' && selectedId !== s.selectedId) view = 'list';
  return { state: { ...s, items, selectedId, seen, view, prompt, editError, rememberPick, message }, arrivals };
}

function move(s: TuiState, by: number): TuiState {
  if (s.items.length === 0) return s;
  const i = Math.max(0, Math.min(s.items.length - 1, selectedIndex(s) + by));
  return { ...s, selectedId: s.items[i]!.id };
}

export function handleKey(s: TuiState, key: Key): { state: TuiState; effect?: Effect } {
  if (key.name === 'ctrl-c') return { state: s, effect: { type: 'quit' } };
  if (s.prompt) return promptKey(s, s.prompt, key);
  const ch = key.name === 'char' ? key.ch : null;
  if (s.rememberPick) return pickKey(s, s.rememberPick.id, ch, key);
  if (s.editError) {
    const e = s.editError;
    if (ch === 'e') return { state: { ...s, editError: null, message: null }, effect: { type: 'modify', id: e.id, text: e.text } };
    if (ch === 'c' || key.name === 'escape') return { state: { ...s, editError: null, message: 'modify cancelled' } };
    return { state: s };
  }
  if (s.view === 'help') return { state: { ...s, view: 'list' } };
  if (s.view === 'detail' && (key.name === 'up' || ch === 'k')) return { state: { ...s, scroll: Math.max(0, s.scroll - 1) } };
  if (s.view === 'detail' && (key.name === 'down' || ch === 'j')) return { state: { ...s, scroll: s.scroll + 1 } };
  if (key.name === 'up' || ch === 'k') return { state: move(s, -1) };
  if (key.name === 'down' || ch === 'j') return { state: move(s, 1) };
  if (ch === 'q') return { state: s, effect: { type: 'quit' } };
  if (ch === '?') return { state: { ...s, view: 'help' } };
  if (key.name === 'escape') return { state: { ...s, view: 'list', message: null } };
  const p = selected(s);
  if (!p) return { state: s };
  if (key.name === 'enter') return { state: { ...s, view: s.view === 'detail' ? 'list' : 'detail', scroll: 0 } };
  if (ch === 'a') {
    if (REASON_ON_APPROVE_KINDS.has(p.kind)) return { state: { ...s, prompt: { action: 'approved', id: p.id, text: '' }, message: null } };
    return { state: { ...s, message: null }, effect: { type: 'decide', id: p.id, decision: 'approved' } };
  }
  if (ch === 'A') {
    if (p.kind === 'capability-block') return { state: { ...s, message: 'capability-block approvals are never remembered: a Dockerfile change always asks (a approves once)' } };
    return { state: { ...s, rememberPick: { id: p.id }, message: null } };
  }
  if (ch === 'r') return { state: { ...s, prompt: { action: 'rejected', id: p.id, text: '' }, message: null } };
  if (ch === 'm') {
    if (!MODIFIABLE_KINDS.has(p.kind)) return { state: { ...s, message: `${p.kind} cannot be modified: approve (with a reason) or reject` } };
    return { state: { ...s, message: null }, effect: { type: 'modify', id: p.id } };
  }
  return { state: s };
}

function pickKey(s: TuiState, id: string, ch: string | null, key: Key): { state: TuiState; effect?: Effect } {
  if (key.name === 'escape') return { state: { ...s, rememberPick: null, message: 'cancelled' } };
  const scope = ch !== null ? REMEMBER_KEYS[ch] : undefined;
  if (!scope) return { state: s };
  const p = s.items.find((x) => x.id === id);
  if (!p) return { state: { ...s, rememberPick: null } };
  if (scope === 'file' && p.kind !== 'egress-allow') return { state: { ...s, message: 'only egress-allow routes can be written into the bottle file: b or g (Esc cancels)' } };
  const next = { ...s, rememberPick: null, message: null };
  if (REASON_ON_APPROVE_KINDS.has(p.kind)) return { state: { ...next, prompt: { action: 'approved', id, text: '', remember: scope } } };
  return { state: next, effect: { type: 'decide', id, decision: 'approved', remember: scope } };
}

function promptKey(s: TuiState, prompt: PromptState, key: Key): { state: TuiState; effect?: Effect } {
  if (key.name === 'escape') return { state: { ...s, prompt: null, message: 'cancelled' } };
  if (key.name === 'backspace') return { state: { ...s, prompt: { ...prompt, text: [...prompt.text].slice(0, -1).join('') } } };
  if (key.name === 'enter') {
    const reason = prompt.text.trim();
    if (reason === '') return { state: { ...s, message: 'a reason is required (Esc cancels)' } };
    return {
      state: { ...s, prompt: null, message: null },
      effect: { type: 'decide', id: prompt.id, decision: prompt.action, reason, ...(prompt.remember ? { remember: prompt.remember } : {}) },
    };
  }
  if (key.name === 'char' && prompt.text.length < 1000) return { state: { ...s, prompt: { ...prompt, text: prompt.text + key.ch } } };
  return { state: s };
}
