/** Push policy (docs/security-model.md §2.5) — pure unit tests, plus properties of the ref globs. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkPush,
  checkUpdate,
  isForceUpdate,
  isProtectedRef,
  normaliseRefPattern,
  parseRefUpdates,
  refPatternToRegExp,
  type PushPolicy,
} from '../../src/gate/policy.js';

const Z = '0'.repeat(40);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const base: PushPolicy = { readOnly: false, protectedRefs: [], allowForcePush: false, allowDelete: false };
const yes = () => true;
const no = () => false;

describe('ref patterns', () => {
  it('G18 (unit): `main` means refs/heads/main; `*` stays within a segment; `**` crosses', () => {
    expect(normaliseRefPattern('main')).toBe('refs/heads/main');
    expect(normaliseRefPattern('refs/tags/v*')).toBe('refs/tags/v*');
    const p = ['main', 'refs/heads/release/*'];
    expect(isProtectedRef('refs/heads/main', p)).toBe(true);
    expect(isProtectedRef('refs/heads/release/1', p)).toBe(true);
    expect(isProtectedRef('refs/heads/release/1/x', p)).toBe(false);
    expect(isProtectedRef('refs/heads/feature', p)).toBe(false);
    expect(isProtectedRef('refs/heads/mainline', p)).toBe(false);
    expect(isProtectedRef('refs/heads/release/1/x', ['release/**'])).toBe(true);
    expect(isProtectedRef('refs/tags/v1.0', ['refs/tags/*'])).toBe(true);
  });

  it('regex metacharacters in patterns are literal', () => {
    expect(isProtectedRef('refs/heads/a.b', ['a.b'])).toBe(true);
    expect(isProtectedRef('refs/heads/axb', ['a.b'])).toBe(false);
    expect(isProtectedRef('refs/heads/(x)+', ['(x)+'])).toBe(true);
  });

  it('property: a literal pattern matches exactly its own ref; `*` never crosses "/"', () => {
    const seg = fc.stringMatching(/^[A-Za-z0-9._()+-]{1,8}$/);
    fc.assert(
      fc.property(fc.array(seg, { minLength: 1, maxLength: 4 }), seg, (segs, extra) => {
        const ref = `refs/heads/${segs.join('/')}`;
        expect(refPatternToRegExp(segs.join('/')).test(ref)).toBe(true);
        expect(refPatternToRegExp(segs.join('/')).test(`${ref}/${extra}`)).toBe(false);
        expect(refPatternToRegExp(`${segs.join('/')}/*`).test(`${ref}/${extra}`)).toBe(true);
        expect(refPatternToRegExp(`${segs.join('/')}/*`).test(`${ref}/${extra}/${extra}`)).toBe(false);
        expect(refPatternToRegExp(`${segs.join('/')}/**`).test(`${ref}/${extra}/${extra}`)).toBe(true);
      }),
    );
  });
});

describe('checkUpdate', () => {
  it('G22 (unit): read_only rejects everything with the read-only text', () => {
    const r = checkUpdate('docs', { oldOid: Z, newOid: A, ref: 'refs/heads/x' }, { ...base, readOnly: true }, yes);
    expect(r).toEqual({ ok: false, code: 'read_only', ref: 'refs/heads/x', message: "git-gate: 'docs' is read-only in this bottle" });
  });

  it('G21 (unit): refs outside heads/tags are a namespace rejection', () => {
    for (const ref of ['refs/notes/commits', 'refs/remotes/origin/main', 'refs/pull/1/head', 'HEAD', 'refs/heads/']) {
      const r = checkUpdate('w', { oldOid: Z, newOid: A, ref }, base, yes);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('namespace');
        expect(r.message).toBe(`git-gate: only refs/heads/* and refs/tags/* may be pushed (got ${ref})`);
      }
    }
  });

  it('protected refs reject create, update and delete', () => {
    const p = { ...base, protectedRefs: ['main'], allowDelete: true, allowForcePush: true };
    for (const u of [
      { oldOid: Z, newOid: A },
      { oldOid: A, newOid: B },
      { oldOid: A, newOid: Z },
    ]) {
      const r = checkUpdate('w', { ...u, ref: 'refs/heads/main' }, p, yes);
      expect(r).toMatchObject({ ok: false, code: 'protected', message: 'git-gate: refs/heads/main is protected in this bottle; push to another branch' });
    }
  });

  it('non-commit refs (issue 11): a ref whose peeled target is a tree, blob or unreadable object is refused unless allow_non_commit_refs', () => {
    for (const t of ['tree', 'blob', 'missing'] as const) {
      const r = checkUpdate('w', { oldOid: Z, newOid: A, ref: 'refs/tags/t' }, base, yes, () => t);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('non_commit');
        expect(r.message).toContain(`refs/tags/t points at`);
        expect(r.message).toContain("allow_non_commit_refs is off for 'w'");
      }
    }
    expect(checkUpdate('w', { oldOid: Z, newOid: A, ref: 'refs/tags/t' }, { ...base, allowNonCommitRefs: true }, yes, () => 'blob')).toEqual({ ok: true });
    expect(checkUpdate('w', { oldOid: Z, newOid: A, ref: 'refs/heads/x' }, base, yes, () => 'commit')).toEqual({ ok: true });
    // Deletions have no target to peel.
    expect(checkUpdate('w', { oldOid: A, newOid: Z, ref: 'refs/tags/t' }, { ...base, allowDelete: true }, yes, () => 'missing')).toEqual({ ok: true });
  });

  it('G20 (unit): deletion needs allow_delete', () => {
    expect(checkUpdate('w', { oldOid: A, newOid: Z, ref: 'refs/heads/x' }, base, yes)).toMatchObject({
      ok: false,
      code: 'delete',
      message: "git-gate: deleting refs/heads/x is disabled for 'w'",
    });
    expect(checkUpdate('w', { oldOid: A, newOid: Z, ref: 'refs/heads/x' }, { ...base, allowDelete: true }, yes)).toEqual({ ok: true });
  });

  it('G19 (unit): non-fast-forward needs allow_force_push; fast-forward and creation pass', () => {
    expect(checkUpdate('w', { oldOid: A, newOid: B, ref: 'refs/heads/x' }, base, no)).toMatchObject({
      ok: false,
      code: 'force',
      message: "git-gate: non-fast-forward update of refs/heads/x refused (force-push is disabled for 'w')",
    });
    expect(checkUpdate('w', { oldOid: A, newOid: B, ref: 'refs/heads/x' }, base, yes)).toEqual({ ok: true });
    expect(checkUpdate('w', { oldOid: Z, newOid: B, ref: 'refs/heads/x' }, base, no)).toEqual({ ok: true });
    expect(checkUpdate('w', { oldOid: A, newOid: B, ref: 'refs/heads/x' }, { ...base, allowForcePush: true }, no)).toEqual({ ok: true });
  });

  it('G21 (unit): any move of an existing tag is a force update, even a fast-forward', () => {
    expect(checkUpdate('w', { oldOid: A, newOid: B, ref: 'refs/tags/v1' }, base, yes)).toMatchObject({ ok: false, code: 'force' });
    expect(isForceUpdate({ oldOid: A, newOid: B, ref: 'refs/tags/v1' }, yes)).toBe(true);
    expect(isForceUpdate({ oldOid: A, newOid: B, ref: 'refs/heads/x' }, yes)).toBe(false);
    expect(isForceUpdate({ oldOid: A, newOid: B, ref: 'refs/heads/x' }, no)).toBe(true);
    expect(isForceUpdate({ oldOid: A, newOid: Z, ref: 'refs/heads/x' }, no)).toBe(false);
  });

  it('checkPush stops at the first rejection, in update order', () => {
    const r = checkPush(
      'w',
      [
        { oldOid: Z, newOid: A, ref: 'refs/heads/ok' },
        { oldOid: A, newOid: Z, ref: 'refs/heads/gone' },
        { oldOid: Z, newOid: A, ref: 'refs/notes/x' },
      ],
      base,
      yes,
    );
    expect(r).toMatchObject({ ok: false, code: 'delete', ref: 'refs/heads/gone' });
  });

  it('property: read_only rejects every update; ancestry is only consulted for existing non-tag refs', () => {
    const oid = fc.constantFrom(Z, A, B);
    const ref = fc.constantFrom('refs/heads/a', 'refs/tags/t', 'refs/notes/n', 'refs/heads/main');
    fc.assert(
      fc.property(oid, oid, ref, fc.boolean(), fc.boolean(), (o, n, r, f, d) => {
        const policy = { readOnly: false, protectedRefs: ['main'], allowForcePush: f, allowDelete: d };
        expect(checkUpdate('w', { oldOid: o, newOid: n, ref: r }, { ...policy, readOnly: true }, yes).ok).toBe(false);
        let asked = false;
        checkUpdate('w', { oldOid: o, newOid: n, ref: r }, policy, () => ((asked = true), true));
        if (asked) expect(o !== Z && n !== Z && r.startsWith('refs/heads/')).toBe(true);
      }),
    );
  });
});

describe('parseRefUpdates', () => {
  it('parses pre-receive stdin and rejects malformed lines', () => {
    expect(parseRefUpdates(`${Z} ${A} refs/heads/x\n${A} ${B} refs/tags/v\n`)).toEqual([
      { oldOid: Z, newOid: A, ref: 'refs/heads/x' },
      { oldOid: A, newOid: B, ref: 'refs/tags/v' },
    ]);
    expect(parseRefUpdates('garbage\n')).toEqual({ error: 'malformed ref update line from receive-pack' });
    expect(parseRefUpdates('')).toEqual([]);
  });
});
