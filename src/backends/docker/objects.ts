/**
 * Every docker object a bottle created, found by the `bot-bottle.slug` label (containers and
 * networks), with its labels: the source of `list active`, `commit` and `cleanup`.
 */
import type { Docker } from './engine.js';
import { LABEL, type Role } from './names.js';

export interface BottleObject {
  kind: 'container' | 'network';
  name: string;
  slug: string;
  role: Role | string;
  running: boolean;
  labels: Record<string, string>;
}

export async function listBottleObjects(docker: Docker): Promise<BottleObject[]> {
  const out: BottleObject[] = [];
  const filter = ['--filter', `label=${LABEL.slug}`];
  const cids = (await docker.run(['ps', '-aq', '--no-trunc', ...filter])).stdout.split(/\s+/).filter(Boolean);
  if (cids.length > 0) {
    const r = await docker.run(['inspect', '--type', 'container', '--format', '{{json .Name}}\t{{json .State.Running}}\t{{json .Config.Labels}}', ...cids]);
    for (const line of r.stdout.split('\n')) {
      const [name, running, labels] = line.split('\t');
      if (!name || !labels) continue;
      const l = JSON.parse(labels) as Record<string, string>;
      out.push({ kind: 'container', name: (JSON.parse(name) as string).replace(/^\//, ''), slug: l[LABEL.slug] ?? '', role: l[LABEL.role] ?? '', running: running === 'true', labels: l });
    }
  }
  const nids = (await docker.run(['network', 'ls', '-q', '--no-trunc', ...filter])).stdout.split(/\s+/).filter(Boolean);
  if (nids.length > 0) {
    const r = await docker.run(['network', 'inspect', '--format', '{{json .Name}}\t{{json .Labels}}', ...nids]);
    for (const line of r.stdout.split('\n')) {
      const [name, labels] = line.split('\t');
      if (!name || !labels) continue;
      const l = (JSON.parse(labels) ?? {}) as Record<string, string>;
      out.push({ kind: 'network', name: JSON.parse(name) as string, slug: l[LABEL.slug] ?? '', role: l[LABEL.role] ?? '', running: false, labels: l });
    }
  }
  return out.filter((o) => o.slug !== '');
}
