import { describe, expect, it } from 'vitest';
import { piProvider } from '../../src/providers/pi/provider.js';
import { ProviderConfigError } from '../../src/providers/errors.js';
import { makeCtx } from './fixtures.js';

const base = { base_url: 'https://llm.example.com/v1', models: ['qwen3-coder', { id: 'llama3', name: 'Llama 3', context_window: 8192, reasoning: true }] };

describe('pi provider', () => {
  it('P37: api_key_ref with https base_url → strong Bearer route; models.json apiKey is the placeholder', async () => {
    const plan = await piProvider.plan(makeCtx({ config: { template: 'pi', settings: { ...base, api_key_ref: 'OLLAMA_KEY' } } }));
    expect(plan.egressRoutes).toEqual([expect.objectContaining({ host: 'llm.example.com', auth: { scheme: 'Bearer', tokenRef: 'OLLAMA_KEY' } })]);
    expect(plan.egressRoutes[0]!.weak).toBeUndefined();
    const models = JSON.parse(plan.files.find((f) => f.path === '/home/node/.pi/agent/models.json')!.content) as {
      providers: Record<string, { baseUrl: string; api: string; apiKey: string; models: Array<Record<string, unknown>> }>;
    };
    const p = models.providers.ollama!;
    expect(p.apiKey).toBe('egress-placeholder');
    expect(p.baseUrl).toBe('https://llm.example.com/v1');
    expect(p.api).toBe('openai-completions');
    expect(p.models[0]).toMatchObject({ id: 'qwen3-coder', name: 'qwen3-coder' });
    expect(p.models[1]).toMatchObject({ id: 'llama3', name: 'Llama 3', contextWindow: 8192, reasoning: true });
    const settings = JSON.parse(plan.files.find((f) => f.path === '/home/node/.pi/agent/settings.json')!.content) as Record<string, string>;
    expect(settings).toEqual({ defaultProvider: 'ollama', defaultModel: 'qwen3-coder' });
    expect(plan.notes.join('\n')).toMatch(/supervise/);
    expect(plan.mcpRegisterArgv).toBeNull();
  });

  it('P38: api_key_ref with an http:// base_url → settings error', () => {
    expect(() => piProvider.validateSettings!({ ...base, base_url: 'http://llm.example.com', api_key_ref: 'OLLAMA_KEY' })).toThrow(ProviderConfigError);
    expect(() => piProvider.validateSettings!({ ...base, base_url: 'http://llm.example.com', api_key_ref: 'OLLAMA_KEY' })).toThrow(/api_key_ref requires an https base_url/);
  });

  it('P39: default_model not in models → settings error', () => {
    expect(() => piProvider.validateSettings!({ ...base, default_model: 'gpt-5' })).toThrow(/default_model "gpt-5" is not listed in models/);
  });

  it('unknown keys, missing base_url, empty models and bad provider ids are errors naming the key', () => {
    expect(() => piProvider.validateSettings!({ ...base, wat: 1 })).toThrow(/unknown key\(s\) wat/);
    expect(() => piProvider.validateSettings!({ models: ['x'] })).toThrow(/settings\.base_url/);
    expect(() => piProvider.validateSettings!({ ...base, models: [] })).toThrow(/settings\.models/);
    expect(() => piProvider.validateSettings!({ ...base, provider: 'Bad_Id' })).toThrow(/settings\.provider/);
    expect(() => piProvider.validateSettings!({ ...base, api_key_ref: 'EGRESS_TOKEN_0' })).toThrow(/reserved/);
  });

  it('without api_key_ref → weak plain route on the base_url host and port; argv with startup_args', async () => {
    const plan = await piProvider.plan(
      makeCtx({ config: { template: 'pi', settings: { ...base, base_url: 'http://gpu.lan:11434/v1', startup_args: ['--thinking', 'low'], compat: { supportsStore: false } } } }),
    );
    expect(plan.egressRoutes).toEqual([expect.objectContaining({ host: 'gpu.lan', port: 11434, weak: true, tlsPassthrough: false })]);
    expect(plan.interactiveArgv).toEqual(['pi', '--thinking', 'low']);
    expect(plan.resumeArgv).toEqual(['pi', '--continue', '--thinking', 'low']);
    expect(plan.headlessArgv).toEqual(['pi', '--thinking', 'low', '-p', '{{prompt}}']);
    expect(plan.headlessResumeArgv).toEqual(['pi', '--continue', '--thinking', 'low', '-p', '{{prompt}}']);
    expect(plan.files[0]!.content).toContain('"supportsStore": false');
    expect(plan.skillsDir).toBe('/home/node/.pi/agent/skills');
  });
});
