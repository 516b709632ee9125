import { describe, expect, it } from 'vitest';
import { codexProvider } from '../../src/providers/codex/provider.js';
import { buildDummyAuth } from '../../src/providers/codex/dummy-auth.js';
import { ProviderAuthError } from '../../src/providers/errors.js';
import { NOW_S, T, fakeHost, makeCtx } from './fixtures.js';

const AUTH = '/home/ada/.codex/auth.json';
const ACCOUNT = 'acct-1234-keep';

function chatgptAuth(access: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    auth_mode: 'chatgpt',
    OPENAI_API_KEY: null,
    tokens: {
      id_token: T(NOW_S + 3600, { email: 'ada@example.com', 'https://api.openai.com/auth': { chatgpt_account_id: ACCOUNT, chatgpt_plan_type: 'plus' } }, 'ID-SIG-MARKER'),
      access_token: access,
      refresh_token: 'REFRESH-TOKEN-MARKER-123456',
      account_id: ACCOUNT,
    },
    last_refresh: '2026-06-30T09:00:00Z',
    ...extra,
  });
}

async function planWith(files: Record<string, string | Error>, env: Record<string, string> = {}) {
  return codexProvider.plan(makeCtx({ host: fakeHost(files, env), config: { template: 'codex', forwardHostCredentials: true } }));
}

async function authError(files: Record<string, string | Error>): Promise<ProviderAuthError> {
  const err = await planWith(files).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderAuthError);
  return err as ProviderAuthError;
}

describe('codex provider', () => {
  it('P22: config.toml trusts the workdir and registers the supervise MCP server', async () => {
    const plan = await codexProvider.plan(makeCtx({ workdir: '/home/node/workspace', config: { template: 'codex' } }));
    const toml = plan.files.find((f) => f.path === '/home/node/.codex/config.toml')!.content;
    expect(toml).toContain('[projects."/home/node/workspace"]');
    expect(toml).toContain('trust_level = "trusted"');
    expect(toml).toContain('[mcp_servers.supervise]');
    expect(toml).toContain('url = "http://supervise:9100/mcp"');
    expect(toml).toContain('tool_timeout_sec = 660');
    expect(plan.mcpRegisterArgv).toBeNull();
  });

  it('P23: CODEX_CA_CERTIFICATE is the bundle path; no OPENAI_API_KEY placeholder', async () => {
    const plan = await codexProvider.plan(makeCtx({ config: { template: 'codex' } }));
    expect(plan.guestEnv.CODEX_CA_CERTIFICATE).toBe('/home/node/.bot-bottle-ca-bundle.pem');
    expect(plan.guestEnv).not.toHaveProperty('OPENAI_API_KEY');
  });

  it('P24: without forwarding → weak passthrough routes, no auth, no provisionedEnv, no auth.json, no host read', async () => {
    const host = fakeHost({ [AUTH]: chatgptAuth(T(NOW_S + 3600)) });
    const plan = await codexProvider.plan(makeCtx({ host, config: { template: 'codex' } }));
    expect(plan.egressRoutes.map((r) => r.host)).toEqual(['api.openai.com', 'chatgpt.com']);
    for (const r of plan.egressRoutes) {
      expect(r.tlsPassthrough).toBe(true);
      expect(r.weak).toBe(true);
      expect(r.auth).toBeUndefined();
    }
    expect(plan.provisionedEnv).toEqual({});
    expect(plan.files.some((f) => f.path.endsWith('auth.json'))).toBe(false);
    expect(host.reads).toEqual([]);
  });

  it('P25: forwarding without auth.json → CODEX_AUTH_MISSING naming ~/.codex/auth.json', async () => {
    const e = await authError({});
    expect(e.reason).toBe('CODEX_AUTH_MISSING');
    expect(e.code).toBe('PROVIDER_AUTH');
    expect(e.message).toContain('~/.codex/auth.json does not exist');
    expect(e.message).toContain('codex login --device-auth');
  });

  it('P26: API-key login → CODEX_AUTH_API_KEY_MODE; message lacks the key', async () => {
    const e = await authError({ [AUTH]: JSON.stringify({ auth_mode: 'apikey', OPENAI_API_KEY: 'sk-x' }) });
    expect(e.reason).toBe('CODEX_AUTH_API_KEY_MODE');
    expect(e.message).not.toContain('sk-x');
    // Any case of api_key, and the implicit form (no auth_mode, no tokens, a key).
    expect((await authError({ [AUTH]: JSON.stringify({ auth_mode: 'API_KEY' }) })).reason).toBe('CODEX_AUTH_API_KEY_MODE');
    expect((await authError({ [AUTH]: JSON.stringify({ OPENAI_API_KEY: 'sk-implicit' }) })).reason).toBe('CODEX_AUTH_API_KEY_MODE');
  });

  it('P27: not JSON / not an object / unreadable → CODEX_AUTH_MALFORMED', async () => {
    const e = await authError({ [AUTH]: 'not json' });
    expect(e.reason).toBe('CODEX_AUTH_MALFORMED');
    expect(e.message).toContain('not JSON');
    expect((await authError({ [AUTH]: '[1,2]' })).reason).toBe('CODEX_AUTH_MALFORMED');
    expect((await authError({ [AUTH]: new Error('EACCES') })).reason).toBe('CODEX_AUTH_MALFORMED');
  });

  it('P28: access token that is not a JWT → CODEX_AUTH_MALFORMED', async () => {
    const e = await authError({ [AUTH]: chatgptAuth('abc') });
    expect(e.reason).toBe('CODEX_AUTH_MALFORMED');
    expect(e.message).not.toContain('abc"');
    expect((await authError({ [AUTH]: chatgptAuth(T(undefined, { sub: 'x' })) })).message).toContain('has no exp claim');
    expect((await authError({ [AUTH]: JSON.stringify({ auth_mode: 'chatgpt', tokens: 'x' }) })).reason).toBe('CODEX_AUTH_MALFORMED');
  });

  it('P29: expired access token → CODEX_AUTH_EXPIRED with the ISO time', async () => {
    const e = await authError({ [AUTH]: chatgptAuth(T(NOW_S - 10)) });
    expect(e.reason).toBe('CODEX_AUTH_EXPIRED');
    expect(e.message).toContain(new Date((NOW_S - 10) * 1000).toISOString().replace('.000Z', 'Z'));
  });

  it('P30: expiring within the 60 s skew → CODEX_AUTH_EXPIRED', async () => {
    expect((await authError({ [AUTH]: chatgptAuth(T(NOW_S + 30)) })).reason).toBe('CODEX_AUTH_EXPIRED');
  });

  it('P31: valid login → provisionedEnv holds the token; strong routes reference it', async () => {
    const token = T(NOW_S + 3600, { sub: 'user' });
    const plan = await planWith({ [AUTH]: chatgptAuth(token) });
    expect(plan.provisionedEnv).toEqual({ BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN: token });
    expect(plan.egressRoutes.map((r) => r.host)).toEqual(['api.openai.com', 'chatgpt.com']);
    for (const r of plan.egressRoutes) {
      expect(r.auth).toEqual({ scheme: 'Bearer', tokenRef: 'BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN' });
      expect(r.weak).toBeUndefined();
      expect(r.dlp.outboundOnMatch).toBe('redact');
    }
    const auth = plan.files.find((f) => f.path === '/home/node/.codex/auth.json')!;
    expect(auth.mode).toBe(0o600);
    // The real token appears nowhere the guest can see.
    expect(JSON.stringify({ files: plan.files, env: plan.guestEnv })).not.toContain(token);
  });

  it('P32: CODEX_HOME in the host env → reads $CODEX_HOME/auth.json', async () => {
    const host = fakeHost({ '/x/auth.json': chatgptAuth(T(NOW_S + 3600)) }, { CODEX_HOME: '/x' });
    const plan = await codexProvider.plan(makeCtx({ host, config: { template: 'codex', forwardHostCredentials: true } }));
    expect(host.reads).toEqual(['/x/auth.json']);
    expect(plan.provisionedEnv).toHaveProperty('BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN');
  });

  it('writes AGENTS.md only with a prompt; the codex argv', async () => {
    const plan = await codexProvider.plan(makeCtx({ agent: { name: 'a', prompt: 'Do X.', skills: [] }, config: { template: 'codex' } }));
    expect(plan.files.find((f) => f.path === '/home/node/.codex/AGENTS.md')!.content).toBe('Do X.\n');
    expect(plan.interactiveArgv).toEqual(['codex', '--dangerously-bypass-approvals-and-sandbox']);
    expect(plan.resumeArgv).toEqual(['codex', 'resume', '--last', '--dangerously-bypass-approvals-and-sandbox']);
    expect(plan.headlessArgv).toEqual(['codex', 'exec', '--dangerously-bypass-approvals-and-sandbox', '--skip-git-repo-check', '{{prompt}}']);
    expect(plan.headlessResumeArgv.slice(0, 4)).toEqual(['codex', 'exec', 'resume', '--last']);
  });
});

function decode(jwt: string): { header: Record<string, unknown>; payload: Record<string, unknown>; sig: string } {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>,
    sig: Buffer.from(s!, 'base64url').toString(),
  };
}

describe('dummy guest auth.json', () => {
  const access = T(NOW_S + 3600, { sub: 'user-secret-sub', scope: ['openid', 'offline'], admin: false, 'https://api.openai.com/auth': { chatgpt_account_id: ACCOUNT, user_id: 'user-xyz' } }, 'ACCESS-SIG-MARKER');
  const host = JSON.parse(chatgptAuth(access, { OPENAI_API_KEY: 'sk-proj-HOSTKEYMARKER' })) as Record<string, unknown>;

  it('P33: keeps auth_mode, account_id, last_refresh; nulls the API key; redacts refresh_token; no host token string', () => {
    const dummy = buildDummyAuth(host) as { auth_mode: string; OPENAI_API_KEY: null; last_refresh: string; tokens: Record<string, string> };
    expect(dummy.auth_mode).toBe('chatgpt');
    expect(dummy.OPENAI_API_KEY).toBeNull();
    expect(dummy.last_refresh).toBe('2026-06-30T09:00:00Z');
    expect(dummy.tokens.account_id).toBe(ACCOUNT);
    expect(dummy.tokens.refresh_token).toBe('bot-bottle-placeholder');
    const text = JSON.stringify(dummy);
    const hostTokens = host.tokens as Record<string, string>;
    for (const secret of [hostTokens.access_token!, hostTokens.id_token!, hostTokens.refresh_token!, 'sk-proj-HOSTKEYMARKER']) {
      expect(text).not.toContain(secret);
    }
    for (const part of [...hostTokens.access_token!.split('.'), ...hostTokens.id_token!.split('.')].filter((p) => p.length > 20 && !p.startsWith('eyJhbGciOiJSUzI1NiI'))) {
      expect(text).not.toContain(part);
    }
    expect(text).not.toContain('SIG-MARKER');
  });

  it('P34: dummy access token: alg none, exp kept, chatgpt_account_id kept, other strings placeholder, booleans kept', () => {
    const dummy = buildDummyAuth(host) as { tokens: { access_token: string; id_token: string } };
    const { header, payload, sig } = decode(dummy.tokens.access_token);
    expect(header).toEqual({ alg: 'none', typ: 'JWT' });
    expect(sig).toBe('bot-bottle-placeholder');
    expect(payload.exp).toBe(NOW_S + 3600);
    expect(payload['https://api.openai.com/auth']).toEqual({ chatgpt_account_id: ACCOUNT, user_id: 'bot-bottle-placeholder' });
    expect(payload.sub).toBe('bot-bottle-placeholder');
    expect(payload.scope).toEqual(['bot-bottle-placeholder', 'bot-bottle-placeholder']);
    expect(payload.admin).toBe(false);
    const id = decode(dummy.tokens.id_token).payload;
    expect(id.email).toBe('bot-bottle-placeholder');
    expect(id.exp).toBe(NOW_S + 3600);
  });

  it('id token without exp gets the access token exp; undecodable id token becomes {exp}', () => {
    const noExp = buildDummyAuth({ tokens: { access_token: access, id_token: T(undefined, { a: 'b' }) } }) as { tokens: { id_token: string } };
    expect(decode(noExp.tokens.id_token).payload).toEqual({ a: 'bot-bottle-placeholder', exp: NOW_S + 3600 });
    const junk = buildDummyAuth({ tokens: { access_token: access, id_token: 'garbage-ID-MARKER' } }) as { tokens: { id_token: string } };
    expect(decode(junk.tokens.id_token).payload).toEqual({ exp: NOW_S + 3600 });
    expect(JSON.stringify(junk)).not.toContain('garbage-ID-MARKER');
  });

  it('P35: unknown nested values are redacted generically', () => {
    const dummy = buildDummyAuth({ tokens: { access_token: access }, extra: { n: 5, ok: true, l: ['s'] } }) as Record<string, unknown>;
    expect(dummy.extra).toEqual({ n: 'bot-bottle-placeholder', ok: true, l: ['bot-bottle-placeholder'] });
  });

  it('P36: keys matched case-insensitively, original spelling kept', () => {
    const dummy = buildDummyAuth({ Auth_Mode: 'chatgpt', TOKENS: { Access_Token: access, Account_ID: ACCOUNT, Refresh_Token: 'R-MARKER-1' } }) as Record<string, Record<string, string>>;
    expect(Object.keys(dummy)).toEqual(['Auth_Mode', 'TOKENS']);
    expect(Object.keys(dummy.TOKENS!)).toEqual(['Access_Token', 'Account_ID', 'Refresh_Token']);
    expect(dummy.TOKENS!.Account_ID).toBe(ACCOUNT);
    expect(decode(dummy.TOKENS!.Access_Token!).payload.exp).toBe(NOW_S + 3600);
    expect(dummy.TOKENS!.Refresh_Token).toBe('bot-bottle-placeholder');
  });

  it('forwarding with TOKENS spelled differently still validates (case-insensitive)', async () => {
    const plan = await planWith({ [AUTH]: JSON.stringify({ AUTH_MODE: 'ChatGPT', TOKENS: { ACCESS_TOKEN: access } }) });
    expect(plan.provisionedEnv.BOT_BOTTLE_CODEX_HOST_ACCESS_TOKEN).toBe(access);
  });
});
