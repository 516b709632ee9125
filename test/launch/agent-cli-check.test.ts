/**
 * The agent-CLI check `start`/`resume` run before anything exists
 * (docs/decisions/agent-cli-preflight.md). Pure enough to run anywhere: the netns backend object
 * is only asked for its capability, never launched.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentCliProblem } from '../../src/launch/agent-cli-check.js';
import { createNetnsBackend } from '../../src/backends/netns/index.js';
import { unavailableBackend } from '../../src/backends/unavailable.js';
import { findExecutable } from '../../src/backends/platform.js';

const netns = createNetnsBackend();
const dirs: string[] = [];
afterEach(() => {
  while (dirs.length > 0) rmSync(dirs.pop()!, { recursive: true, force: true });
});

describe('agentCliProblem', () => {
  it('netns says the agent binary comes from the host; the unimplemented backends bring their own', () => {
    expect(netns.agentBinaryFromHost?.visibleRoots).toContain('/usr');
    expect(netns.agentBinaryFromHost?.path.split(':')).toContain('/usr/bin');
    expect(unavailableBackend('docker', 'r', 'f').agentBinaryFromHost).toBeNull();
    expect(agentCliProblem({ backend: unavailableBackend('docker', 'r', 'f'), agentName: 'a', template: 'claude', argv: ['bb-nope-x'] })).toBeNull();
  });

  it('the demo script agent (/bin/sh) and a PATH command that exists pass', () => {
    expect(agentCliProblem({ backend: netns, agentName: 'demo', template: 'demo', argv: ['/bin/sh', '-c', '{{prompt}}'] })).toBeNull();
    expect(agentCliProblem({ backend: netns, agentName: 'a', template: 'shtool', argv: ['sh'] })).toBeNull();
    if (findExecutable('node', '') !== null) expect(agentCliProblem({ backend: netns, agentName: 'a', template: 'x', argv: ['node'] })).toBeNull();
  });

  it('a missing command: BACKEND_UNAVAILABLE (exit 3) with the install line; plugins point at their docs', () => {
    const p = agentCliProblem({ backend: netns, agentName: 'implementer', template: 'plug', argv: ['bb-no-such-cli-91'] });
    expect(p).toMatchObject({ code: 'BACKEND_UNAVAILABLE', exitCode: 3 });
    expect(p?.oneLine()).toBe(
      'agent "implementer" runs bb-no-such-cli-91, which is not installed on this host (the netns backend runs the host\'s binary); install bb-no-such-cli-91 on the host (the "plug" provider plugin says how)',
    );
    expect(agentCliProblem({ backend: netns, agentName: 'a', template: 'x', argv: ['/nonexistent/bin/tool'] })?.message).toContain('runs /nonexistent/bin/tool, which is not installed');
  });

  it.skipIf(findExecutable('codex') !== null)('a built-in before planning: its command and npm package come from agentCliFor', () => {
    const p = agentCliProblem({ backend: netns, agentName: 'coder', template: 'codex' });
    expect(p?.oneLine()).toBe(
      'agent "coder" runs codex, which is not installed on this host (the netns backend runs the host\'s binary); install it (npm install -g @openai/codex)',
    );
  });

  it('a CLI on the operator\'s PATH but outside the sandbox (~/.local/bin, a version manager) is refused, saying where it is', () => {
    const d = mkdtempSync(join(tmpdir(), 'bb-cli-check-'));
    dirs.push(d);
    writeFileSync(join(d, 'bbtool-91'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(d, 'bbtool-91'), 0o755);
    const p = agentCliProblem({ backend: netns, agentName: 'a', template: 'x', argv: ['bbtool-91'], hostPath: d });
    expect(p?.code).toBe('BACKEND_UNAVAILABLE');
    expect(p?.oneLine()).toBe(`agent "a" runs bbtool-91, but it is at ${join(d, 'bbtool-91')}, which the sandbox does not see (the netns backend runs the host's binary); install it under /usr`);
  });

  it('an absolute command that resolves outside the sandbox (a symlink into /tmp) is refused, naming the file', () => {
    const d = mkdtempSync(join(tmpdir(), 'bb-cli-check-'));
    dirs.push(d);
    writeFileSync(join(d, 'real-tool'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(d, 'real-tool'), 0o755);
    symlinkSync(join(d, 'real-tool'), join(d, 'bbtool'));
    const p = agentCliProblem({ backend: netns, agentName: 'a', template: 'x', argv: [join(d, 'bbtool')] });
    expect(p?.code).toBe('BACKEND_UNAVAILABLE');
    expect(p?.message).toContain(`resolves to ${join(d, 'real-tool')}, outside the host directories the sandbox sees`);
  });

  it('a relative path with a slash is the guest\'s business (nothing to ask the host)', () => {
    expect(agentCliProblem({ backend: netns, agentName: 'a', template: 'x', argv: ['./run.sh'] })).toBeNull();
  });
});
