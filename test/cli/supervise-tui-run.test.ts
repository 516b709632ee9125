/**
 * runSupervisorTui end to end with a fake TuiSource and in-memory streams: the bell (only for
 * arrivals after the first list), decisions reaching the source, an invalid edit offered again,
 * a refusal shown instead of crashing, and q resolving 0 with the screen restored.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runSupervisorTui, type TuiDecision, type TuiProposal, type TuiSource } from '../../src/cli/supervise-tui/index.js';
import { BELL, LEAVE_SCREEN } from '../../src/cli/supervise-tui/terminal.js';

const prop = (id: string, kind: TuiProposal['kind'] = 'egress-allow'): TuiProposal => ({
  id, seq: 1, bottle: 'b-aaaaa', kind, justification: 'j', payload: { routes: [] },
  createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString(),
});

function fake(initial: TuiProposal[]) {
  const pending = [...initial];
  const decided: TuiDecision[] = [];
  const source: TuiSource & { pending: TuiProposal[]; decided: TuiDecision[] } = {
    pending,
    decided,
    tick: () => undefined,
    listPending: () => [...pending],
    heartbeatAge: () => 1,
    labelColor: () => undefined,
    summary: (p) => p.id,
    detail: () => ({ text: '', warnings: [] }),
    editText: () => 'routes: []\n',
    parseEdit: (_p, text) => {
      if (text.includes('BROKEN')) throw new Error('routes[0].host is required');
      return { routes: text };
    },
    decide: async (d) => {
      if (d.id === 'refused') throw new Error('proposal refused was already decided');
      decided.push(d);
      pending.splice(pending.findIndex((p) => p.id === d.id), 1);
      return `${d.decision} ${d.id}`;
    },
  };
  return source;
}

function streams() {
  const input = new PassThrough() as unknown as NodeJS.ReadStream;
  let out = '';
  const output = new Writable({ write(c, _e, cb) { out += c.toString(); cb(); } }) as unknown as NodeJS.WriteStream;
  return { input, output, out: () => out, type: (s: string) => (input as unknown as PassThrough).write(s) };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

describe('runSupervisorTui', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bb-tui-run-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('bells only on arrivals after the first list; a, r+reason reach the source; a refusal is shown; q → 0', async () => {
    const src = fake([prop('p1'), prop('refused')]);
    const s = streams();
    const done = runSupervisorTui({ source: src, input: s.input, output: s.output, env: { TERM: 'xterm' }, refreshMs: 30 });
    await until(() => s.out().includes('2 pending'));
    await new Promise((r) => setTimeout(r, 100));
    expect(s.out()).not.toContain(BELL); // the backlog is not an arrival
    src.pending.push(prop('p9'));
    expect(await until(() => s.out().includes(BELL))).toBe(true);
    s.type('a');
    expect(await until(() => src.decided.length === 1)).toBe(true);
    expect(src.decided[0]).toEqual({ id: 'p1', decision: 'approved' });
    s.type('a'); // "refused" is selected now: the source throws
    expect(await until(() => s.out().includes('not recorded: proposal refused was already decided'))).toBe(true);
    s.type('jrno thanks\r');
    expect(await until(() => src.decided.length === 2)).toBe(true);
    expect(src.decided[1]).toEqual({ id: 'p9', decision: 'rejected', reason: 'no thanks', notes: 'no thanks' });
    s.type('q');
    expect(await done).toBe(0);
    expect(s.out().endsWith(LEAVE_SCREEN)).toBe(true);
  });

  it('modify: an invalid edit is shown with e/c; e re-opens with the edited text; a valid one is sent as modified', async () => {
    const editor = join(dir, 'ed.sh');
    const count = join(dir, 'count');
    // first run breaks the file, second run fixes it (the text it gets back must be the broken one)
    writeFileSync(editor, `#!/bin/sh\nif [ -f '${count}' ]; then grep -q BROKEN "$1" && echo 'routes: [{host: ok.example}]' > "$1"; else touch '${count}'; echo BROKEN > "$1"; fi\n`);
    chmodSync(editor, 0o755);
    const src = fake([prop('m1')]);
    const s = streams();
    const done = runSupervisorTui({ source: src, input: s.input, output: s.output, env: { EDITOR: editor, TERM: 'xterm' }, refreshMs: 30 });
    await until(() => s.out().includes('1 pending'));
    s.type('m');
    expect(await until(() => s.out().includes('routes[0].host is required'))).toBe(true);
    expect(s.out()).toContain('e edit again, c cancel');
    expect(src.decided).toEqual([]);
    s.type('e');
    expect(await until(() => src.decided.length === 1)).toBe(true);
    expect(src.decided[0]).toEqual({ id: 'm1', decision: 'modified', modifiedPayload: { routes: 'routes: [{host: ok.example}]\n' } });
    s.type('q');
    expect(await done).toBe(0);
  });
});
