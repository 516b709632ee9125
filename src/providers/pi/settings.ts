/**
 * `agent_provider.settings` for the pi provider (docs/configuration.md §3.2): validated, defaults
 * applied.
 */
import { z } from 'zod';
import { reservedTokenRef } from '../../manifest/check.js';
import { ProviderConfigError } from '../errors.js';

const ID = /^[a-z][a-z0-9-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const modelSchema = z.union([
  z.string().min(1),
  z.strictObject({
    id: z.string().min(1),
    name: z.string().min(1).optional(),
    context_window: z.number().int().positive().optional(),
    max_tokens: z.number().int().positive().optional(),
    reasoning: z.boolean().optional(),
  }),
]);

const settingsSchema = z.strictObject({
  provider: z.string().regex(ID, 'must match ^[a-z][a-z0-9-]*$').default('ollama'),
  base_url: z.string().refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL'),
  api: z.string().min(1).default('openai-completions'),
  models: z.array(modelSchema).min(1, 'must list at least one model'),
  default_model: z.string().min(1).optional(),
  api_key_ref: z
    .string()
    .regex(ENV_NAME, 'must be a host environment variable name')
    .refine((s) => !reservedTokenRef(s), 'is a reserved reference name')
    .optional(),
  compat: z.record(z.string(), z.unknown()).optional(),
  startup_args: z.array(z.string()).default([]),
});

export interface PiModel {
  readonly id: string;
  readonly name: string;
  readonly contextWindow: number;
  readonly maxTokens: number;
  readonly reasoning: boolean;
}

export interface PiSettings {
  readonly provider: string;
  readonly baseUrl: URL;
  readonly api: string;
  readonly models: readonly PiModel[];
  readonly defaultModel: string;
  readonly apiKeyRef: string | null;
  readonly compat: Readonly<Record<string, unknown>> | null;
  readonly startupArgs: readonly string[];
}

// Conservative defaults for OpenAI-compatible local models; the operator overrides per model.
const DEFAULT_CONTEXT_WINDOW = 128_000;
const DEFAULT_MAX_TOKENS = 16_384;

export function parsePiSettings(raw: Readonly<Record<string, unknown>>): PiSettings {
  const r = settingsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const key = issue && issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
    const what = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
    throw new ProviderConfigError('pi', `agent_provider.settings${key}: ${what}`, 'fix the bottle\'s agent_provider.settings (see docs/configuration.md §3.2 agent_provider)');
  }
  const s = r.data;
  const models: PiModel[] = s.models.map((m) =>
    typeof m === 'string'
      ? { id: m, name: m, contextWindow: DEFAULT_CONTEXT_WINDOW, maxTokens: DEFAULT_MAX_TOKENS, reasoning: false }
      : {
          id: m.id,
          name: m.name ?? m.id,
          contextWindow: m.context_window ?? DEFAULT_CONTEXT_WINDOW,
          maxTokens: m.max_tokens ?? DEFAULT_MAX_TOKENS,
          reasoning: m.reasoning ?? false,
        },
  );
  const defaultModel = s.default_model ?? models[0]!.id;
  if (!models.some((m) => m.id === defaultModel)) {
    throw new ProviderConfigError('pi', `agent_provider.settings.default_model "${defaultModel}" is not listed in models`, 'add it to models or pick one of them');
  }
  const baseUrl = new URL(s.base_url);
  if (s.api_key_ref !== undefined && baseUrl.protocol !== 'https:') {
    throw new ProviderConfigError(
      'pi',
      'agent_provider.settings.api_key_ref requires an https base_url (egress never sends credentials in clear text)',
      'use an https:// base_url or drop api_key_ref',
    );
  }
  return {
    provider: s.provider,
    baseUrl,
    api: s.api,
    models,
    defaultModel,
    apiKeyRef: s.api_key_ref ?? null,
    compat: s.compat ?? null,
    startupArgs: s.startup_args,
  };
}
