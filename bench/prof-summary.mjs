// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time and by total time,
// and self time per source file. Used by `bench/run.mjs --prof`; also runnable on its own:
//   node bench/prof-summary.mjs path/to/file.cpuprofile [top]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const shortUrl = (url) => {
  if (!url) return '';
  const s = url.replace(/^file:\/\//, '');
  const dist = s.lastIndexOf('/dist/');
  if (dist >= 0) return s.slice(dist + 1);
  const nm = s.lastIndexOf('/node_modules/');
  if (nm >= 0) return s.slice(nm + 1);
  return s;
};

export function summarizeProfile(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const keyOf = (n) => {
    const f = n.callFrame;
    const url = shortUrl(f.url);
    return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
  };
  const fileOf = (n) => shortUrl(n.callFrame.url) || n.callFrame.functionName || '(native)';

  const bySelf = new Map();
  const byFile = new Map();
  let totalUs = 0;
  let idleUs = 0;
  for (const n of profile.nodes) {
    const us = selfUs.get(n.id) ?? 0;
    if (!us) continue;
    totalUs += us;
    if (n.callFrame.functionName === '(idle)') idleUs += us;
    bySelf.set(keyOf(n), (bySelf.get(keyOf(n)) ?? 0) + us);
    byFile.set(fileOf(n), (byFile.get(fileOf(n)) ?? 0) + us);
  }

  // Inclusive time per function key, not double counting recursion.
  const inclusive = new Map();
  const subtotal = new Map();
  const sub = (id) => {
    if (subtotal.has(id)) return subtotal.get(id);
    const n = nodes.get(id);
    let t = selfUs.get(id) ?? 0;
    for (const c of n.children ?? []) t += sub(c);
    subtotal.set(id, t);
    return t;
  };
  const root = profile.nodes[0];
  const walk = (id, onStack) => {
    const n = nodes.get(id);
    const key = keyOf(n);
    const fresh = !onStack.has(key);
    if (fresh) {
      inclusive.set(key, (inclusive.get(key) ?? 0) + sub(id));
      onStack.add(key);
    }
    for (const c of n.children ?? []) walk(c, onStack);
    if (fresh) onStack.delete(key);
  };
  walk(root.id, new Set());

  const busyUs = totalUs - idleUs;
  const pct = (us) => `${((100 * us) / busyUs).toFixed(1).padStart(5)}%`;
  const table = (title, map, filter = () => true) => {
    const rows = [...map.entries()]
      .filter(([k]) => filter(k))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top);
    return [`${title} (% of non-idle samples)`, ...rows.map(([k, us]) => `  ${pct(us)}  ${k}`)].join('\n');
  };
  const notBookkeeping = (k) => !/^\((root|idle|program)\)/.test(k);
  return [
    `non-idle sampled time ${(busyUs / 1000).toFixed(0)} ms`,
    table('self time by function', bySelf, (k) => k !== '(idle)'),
    table('self time by file', byFile, (k) => k !== '(idle)'),
    table('total (inclusive) time by function', inclusive, notBookkeeping),
  ].join('\n\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/prof-summary.mjs file.cpuprofile [top]');
    process.exit(1);
  }
  console.log(summarizeProfile(file, Number(top) || 25));
}
