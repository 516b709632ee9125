/**
 * Agent image cascade (docs/plan-json.md, `provider.imageSource`): first match wins — (1)
 * per-bottle override `state/<slug>/Dockerfile`, (2) manifest `agent_provider.dockerfile`, (3)
 * plugin `Dockerfile`, (4) the provider's bundled Dockerfile. Pure: the caller says which files
 * exist.
 *
 * Decision: a custom Dockerfile never builds under the provider's shared tag (that would replace
 * the stock image for every other bottle): a per-bottle override is tagged by slug, a manifest
 * Dockerfile by a hash of its path.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';

export type ImageSource = 'state-override' | 'manifest' | 'plugin' | 'bundled';

export interface ImageChoice {
  readonly tag: string;
  readonly dockerfile: string | null;
  readonly context: string | null;
  readonly source: ImageSource;
}

export function chooseImage(i: {
  readonly slug: string;
  readonly template: string;
  readonly providerTag: string;
  readonly bundledDockerfile: string | null;
  readonly bundledContext: string | null;
  readonly stateOverride: string | null;
  readonly manifestDockerfile: string | null;
  readonly pluginDockerfile: string | null;
  readonly pluginDir: string | null;
}): ImageChoice {
  if (i.stateOverride) {
    return { tag: `bot-bottle-${i.slug}-agent:latest`, dockerfile: i.stateOverride, context: dirname(i.stateOverride), source: 'state-override' };
  }
  if (i.manifestDockerfile) {
    const h = createHash('sha256').update(i.manifestDockerfile).digest('hex').slice(0, 10);
    return { tag: `bot-bottle-${i.template}-${h}:latest`, dockerfile: i.manifestDockerfile, context: dirname(i.manifestDockerfile), source: 'manifest' };
  }
  if (i.pluginDockerfile) return { tag: i.providerTag, dockerfile: i.pluginDockerfile, context: i.pluginDir ?? dirname(i.pluginDockerfile), source: 'plugin' };
  return {
    tag: i.providerTag,
    dockerfile: i.bundledDockerfile,
    context: i.bundledContext ?? (i.bundledDockerfile ? dirname(i.bundledDockerfile) : null),
    source: 'bundled',
  };
}
