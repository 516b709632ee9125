/**
 * The argv main.ts runs without the command-line parser (docs/decisions/launch-processes.md):
 * exactly what the supervisor and the backends spawn, nothing looser — any other form goes
 * through commander with its usage errors.
 */
import { describe, expect, it } from 'vitest';
import { directDaemon } from '../../src/sidecar/run-daemon.js';
import { directSupervisor } from '../../src/sidecar/run-supervisor.js';

const n = ['/usr/bin/node', '/x/dist/cli/main.js'];

describe('direct sidecar argv', () => {
  it('a daemon: exactly `sidecar egress|git-gate`', () => {
    expect(directDaemon([...n, 'sidecar', 'egress'])).toBe('egress');
    expect(directDaemon([...n, 'sidecar', 'git-gate'])).toBe('git-gate');
    expect(directDaemon([...n, 'sidecar', 'supervise'])).toBeNull();
    expect(directDaemon([...n, 'sidecar', 'egress', '--check', 'https://x'])).toBeNull();
    expect(directDaemon([...n, 'egress'])).toBeNull();
  });

  it('the supervisor: exactly the backend form, values that are not options', () => {
    const argv = [...n, 'sidecar', '--tokens-from-stdin', '--config', '/s/x', '--listen', '10.250.0.1', '--daemons', 'egress,git-gate'];
    expect(directSupervisor(argv)).toEqual({ tokensFromStdin: true, config: '/s/x', listen: '10.250.0.1', daemons: 'egress,git-gate' });
    expect(directSupervisor(argv.slice(0, -2))).toBeNull();
    expect(directSupervisor([...argv, '--help'])).toBeNull();
    expect(directSupervisor(argv.map((a) => (a === '/s/x' ? '--help' : a)))).toBeNull();
    expect(directSupervisor([...n, 'sidecar', '--config', '/s/x', '--tokens-from-stdin', '--listen', 'a', '--daemons', 'egress'])).toBeNull();
  });
});
