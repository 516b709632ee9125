/** Child process of store.test.ts: one importer + exporter pass over a spool, as the launcher runs it. */
import { openStore } from '../../src/supervise/store/index.js';

const [home, spool, slug] = process.argv.slice(2) as [string, string, string];
const store = openStore(home, { onNotice: () => undefined });
const imported: string[] = [];
const delivered: string[] = [];
for (let i = 0; i < 5; i++) {
  imported.push(...store.importSpool(spool).imported);
  delivered.push(...store.exportResponses(slug, spool));
}
store.close();
process.stdout.write(JSON.stringify({ imported, delivered }));
