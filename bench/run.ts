/**
 * `npm run bench [-- --json] [-- --only a,b]`: prints one JSON object of figures; with --json
 * also writes bench/results.json. Times are medians over several runs where they are times.
 * Sections: loading (cache, cold, discovery), install (Temporal vs direct), concurrent.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { cachedLoads, coldLoads, discovery } from './extension-loading.js';
import { concurrentInstalls, installOverhead } from './installs.js';
import { resolve500 } from './resolve.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    only: { type: 'string', default: 'loading,install,concurrent' },
    concurrent: { type: 'string', default: '200' },
    'concurrent-taskserv': { type: 'string', default: 'redis' },
  },
});
const sections = new Set(values.only!.split(','));
const figures: Record<string, number | string> = {};
const show = (part: Record<string, number>) => {
  Object.assign(figures, part);
  console.error(JSON.stringify(part));
};

if (sections.has('loading')) {
  show(await cachedLoads());
  show(await coldLoads());
  show(await discovery());
  show(await resolve500());
}
if (sections.has('install') || sections.has('concurrent')) {
  const script = join(PACKAGE_ROOT, 'temporal-dev.sh');
  let started = false;
  try {
    execFileSync(script, ['status'], { stdio: 'ignore' });
  } catch {
    execFileSync(script, ['start'], { stdio: 'inherit' });
    started = true;
  }
  try {
    if (sections.has('install')) show(await installOverhead());
    if (sections.has('concurrent')) {
      const kubernetes = await concurrentInstalls(50, 'kubernetes');
      show({ concurrent_50_kubernetes_installs: kubernetes.concurrent_installs, concurrent_50_kubernetes_seconds: kubernetes.concurrent_seconds, concurrent_50_worker_peak_rss_mb: kubernetes.worker_peak_rss_mb });
      show(await concurrentInstalls(Number(values.concurrent), values['concurrent-taskserv']!));
    }
  } finally {
    if (started) execFileSync(script, ['stop'], { stdio: 'inherit' });
  }
}

figures.measured_at = new Date().toISOString();
console.log(JSON.stringify(figures, null, 2));
if (values.json) writeFileSync(join(PACKAGE_ROOT, 'bench', 'results.json'), `${JSON.stringify(figures, null, 2)}\n`);
