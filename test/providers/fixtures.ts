/** Fake `ctx.host`, fixed clock and JWT fixtures for provider unit tests. */
import type { AgentProviderConfig } from '../../src/manifest/types.js';
import type { ProviderContext, ProviderHost } from '../../src/providers/types.js';

export const NOW = new Date('2026-07-01T10:00:00Z');
export const NOW_S = Math.floor(NOW.getTime() / 1000);

const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A JWT whose payload has `exp` (plus extra claims). The signature is a marker string. */
export function T(exp: number | undefined, claims: Record<string, unknown> = {}, sig = 'host-signature-MARKER'): string {
  const payload = exp === undefined ? claims : { ...claims, exp };
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload)}.${Buffer.from(sig).toString('base64url')}`;
}

export function fakeHost(files: Record<string, string | Error> = {}, env: Record<string, string> = {}, home = '/home/ada'): ProviderHost & { reads: string[] } {
  const reads: string[] = [];
  return {
    home,
    env,
    reads,
    async readFile(path: string) {
      reads.push(path);
      const f = files[path];
      if (f === undefined) return null;
      if (f instanceof Error) throw f;
      return new TextEncoder().encode(f);
    },
  };
}

export function providerConfig(over: Partial<AgentProviderConfig> = {}): AgentProviderConfig {
  return { template: 'claude', dockerfile: null, authToken: null, forwardHostCredentials: false, settings: {}, ...over };
}

export function makeCtx(over: Partial<Omit<ProviderContext, 'config'>> & { config?: Partial<AgentProviderConfig> } = {}): ProviderContext {
  const { config, ...rest } = over;
  return {
    slug: 'implementer-k3x9q',
    label: 'implementer',
    color: null,
    headless: false,
    guestUser: 'node',
    guestHome: '/home/node',
    workdir: '/home/node',
    agent: { name: 'implementer', prompt: '', skills: [] },
    endpoints: { superviseMcpUrl: 'http://supervise:9100/mcp', egressProxyUrl: 'http://egress:9099' },
    ca: { guestCertPath: '/home/node/.bot-bottle-ca.pem', guestBundlePath: '/home/node/.bot-bottle-ca-bundle.pem' },
    host: fakeHost(),
    now: () => NOW,
    ...rest,
    config: providerConfig(config),
  };
}
