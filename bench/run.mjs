#!/usr/bin/env node
// `npm run bench`: direct vs floor vs understudy, interleaved, against a zero-latency simulator.
// Every server runs in its own child process (CPU time per process comes back over IPC); this
// process is only the load generator (undici Pool + a concurrency loop). See bench/README.md.
//
//   node bench/run.mjs            ~1.5 min, 5 rounds
//   node bench/run.mjs --quick    ~20 s, 3 rounds
//   options: --rounds N   --prof (CPU-profile the gateway child; inflates its CPU numbers)   --no-write
//            --no-stream-upstream (gateway provider with `stream_upstream: false`, like the floor for stream:false)
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { summarizeProfile } from './prof-summary.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

// ---------------------------------------------------------------- options

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: node bench/run.mjs [--quick] [--rounds N] [--prof] [--no-write] [--no-stream-upstream]   (run `npm run build` first, or use `npm run bench`)');
  process.exit(0);
}
const quick = args.includes('--quick');
const prof = args.includes('--prof');
const write = !args.includes('--no-write');
const noStreamUpstream = args.includes('--no-stream-upstream');
const roundsArg = args.indexOf('--rounds');

/** Request counts per (path, phase, round). c64 = 64 connections, c1 = one connection, sequential. */
const PROFILES = {
  full: { rounds: 5, warmup: { c64: 3000, c1: 300 }, c64: { nonstream: 6000, stream: 4000 }, c1: { nonstream: 1000, stream: 1000 }, limitS: 300 },
  quick: { rounds: 3, warmup: { c64: 1500, c1: 100 }, c64: { nonstream: 1500, stream: 1000 }, c1: { nonstream: 250, stream: 200 }, limitS: 120 },
};
const profile = { ...PROFILES[quick ? 'quick' : 'full'] };
if (roundsArg >= 0) profile.rounds = Math.max(1, Number.parseInt(args[roundsArg + 1] ?? '', 10) || profile.rounds);

const TEXT = 'Understudy keeps your AI features working when models fail, by walking a bounded and observable fallback ladder across models and providers.';
const CHUNKS = 20;
const SCENARIO = { kind: 'ok', text: TEXT, chunks: CHUNKS };
const CHAT_PATH = '/v1/chat/completions';

const PHASES = [
  { id: 'ns64', stream: false, conc: 64, n: profile.c64.nonstream },
  { id: 's64', stream: true, conc: 64, n: profile.c64.stream },
  { id: 'ns1', stream: false, conc: 1, n: profile.c1.nonstream },
  { id: 's1', stream: true, conc: 1, n: profile.c1.stream },
];

// ---------------------------------------------------------------- child processes

/** @type {Set<import('node:child_process').ChildProcess>} */
const children = new Set();
const killAll = () => {
  for (const c of children) c.kill('SIGKILL');
};
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`\nbench: ${sig}, stopping children`);
    killAll();
    process.exit(130);
  });
}
setTimeout(() => {
  console.error(`bench: still running after ${profile.limitS} s, giving up`);
  killAll();
  process.exit(2);
}, profile.limitS * 1000).unref();

function spawnServer(name, script, argv, execArgv = []) {
  const child = fork(join(here, script), argv, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  let exited = false;
  const exitedP = new Promise((resolve) => child.once('exit', resolve)).then(() => {
    exited = true;
    children.delete(child);
  });
  const pending = new Map();
  let seq = 0;
  child.on('message', (m) => {
    if (m?.type !== 'stats') return;
    pending.get(m.id)?.resolve(m);
    pending.delete(m.id);
  });
  child.once('exit', (code, signal) => {
    for (const p of pending.values()) p.reject(new Error(`${name} exited (${signal ?? code})`));
    pending.clear();
  });
  const ready = new Promise((resolve, reject) => {
    const onMessage = (m) => {
      if (m?.type === 'ready') done(() => resolve(m.url));
      else if (m?.type === 'error') done(() => reject(new Error(`${name} failed to start:\n${m.message}`)));
    };
    const onExit = (code, signal) => done(() => reject(new Error(`${name} exited (${signal ?? code}) before listening`)));
    const done = (fn) => {
      child.off('message', onMessage);
      child.off('exit', onExit);
      fn();
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
  return {
    name,
    ready,
    /** @returns {Promise<{cpuUs:number, rssBytes:number, maxRssBytes:number}>} */
    stats() {
      if (exited) return Promise.reject(new Error(`${name} is not running`));
      const id = ++seq;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ type: 'stats', id });
      });
    },
    async close(graceMs = 3000) {
      if (exited) return;
      child.send({ type: 'close' }, () => undefined);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exitedP;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------- load generation

const bodyFor = (model, stream) => JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'Say something about fallback ladders.' }] });
const HEADERS = { 'content-type': 'application/json' };

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** n requests over `conc` concurrent loops; latency = time to the full body, ttfb = time to the first body chunk. */
async function load(pool, body, n, conc, stream) {
  const total = new Float64Array(n);
  const ttfb = new Float64Array(n);
  let next = 0;
  let errors = 0;
  let firstError;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const t0 = performance.now();
      try {
        const res = await pool.request({ method: 'POST', path: CHAT_PATH, headers: HEADERS, body });
        let first = -1;
        let prev;
        let last;
        for await (const chunk of res.body) {
          if (first < 0) first = performance.now() - t0;
          prev = last;
          last = chunk;
        }
        const t = performance.now() - t0;
        total[i] = t;
        ttfb[i] = first < 0 ? t : first;
        const tail = Buffer.concat([prev ?? Buffer.alloc(0), last ?? Buffer.alloc(0)]).toString('latin1');
        const ok = res.statusCode === 200 && (stream ? tail.includes('data: [DONE]') : tail.trimEnd().endsWith('}'));
        if (!ok) {
          errors++;
          firstError ??= `HTTP ${res.statusCode}: ${tail.slice(-200)}`;
        }
      } catch (error) {
        errors++;
        firstError ??= String(error);
        total[i] = ttfb[i] = NaN;
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: conc }, worker));
  const elapsedMs = performance.now() - start;
  const sortedTotal = [...total].filter(Number.isFinite).sort((a, b) => a - b);
  const sortedTtfb = [...ttfb].filter(Number.isFinite).sort((a, b) => a - b);
  return {
    n,
    errors,
    firstError,
    elapsedMs,
    rps: (n / elapsedMs) * 1000,
    p50: percentile(sortedTotal, 0.5),
    p99: percentile(sortedTotal, 0.99),
    ttfbP50: percentile(sortedTtfb, 0.5),
    ttfbP99: percentile(sortedTtfb, 0.99),
  };
}

/** One request each way, checked properly (the load loop only checks status and the tail). */
async function sanityCheck(path) {
  const pool = path.pools[1];
  const plain = await pool.request({ method: 'POST', path: CHAT_PATH, headers: HEADERS, body: path.bodies.nonstream });
  const json = await plain.body.json();
  const content = json?.choices?.[0]?.message?.content;
  if (plain.statusCode !== 200 || content !== TEXT) throw new Error(`${path.name}: unexpected non-stream answer (${plain.statusCode}): ${JSON.stringify(json).slice(0, 300)}`);
  const streamed = await pool.request({ method: 'POST', path: CHAT_PATH, headers: HEADERS, body: path.bodies.stream });
  const sse = await streamed.body.text();
  let text = '';
  let contentChunks = 0;
  for (const line of sse.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const delta = JSON.parse(line.slice(6))?.choices?.[0]?.delta?.content;
    if (typeof delta === 'string' && delta.length > 0) {
      text += delta;
      contentChunks++;
    }
  }
  if (streamed.statusCode !== 200 || text !== TEXT || !sse.includes('data: [DONE]')) {
    throw new Error(`${path.name}: unexpected stream answer (${streamed.statusCode}): ${sse.slice(0, 300)}`);
  }
  return { nonStreamBytes: JSON.stringify(json).length, streamBytes: sse.length, contentChunks };
}

async function measure(path, phase, sim, n = phase.n) {
  const [p0, s0] = await Promise.all([path.proc?.stats(), sim.stats()]);
  const r = await load(path.pools[phase.conc], phase.stream ? path.bodies.stream : path.bodies.nonstream, n, phase.conc, phase.stream);
  const [p1, s1] = await Promise.all([path.proc?.stats(), sim.stats()]);
  r.proxyCpuMsPerReq = path.proc ? (p1.cpuUs - p0.cpuUs) / 1000 / n : null;
  r.simCpuMsPerReq = (s1.cpuUs - s0.cpuUs) / 1000 / n;
  return r;
}

// ---------------------------------------------------------------- statistics + report

const median = (xs) => {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function fmt(x, digits) {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  if (digits !== undefined) return x.toFixed(digits);
  const a = Math.abs(x);
  return a >= 1000 ? x.toFixed(0) : a >= 100 ? x.toFixed(1) : a >= 10 ? x.toFixed(2) : x.toFixed(3);
}
const fmtRatio = (x) => (x === null || !Number.isFinite(x) ? '–' : `${x.toFixed(2)}×`);

/** Metric rows: which phase, which field, which paths it applies to, and which ratios make sense. */
const ROWS = [
  { label: 'CPU per request, proxy process (ms)', phase: 'ns64', key: 'proxyCpuMsPerReq', paths: ['floor', 'understudy'], ratios: ['uf'] },
  { label: 'CPU per request, simulator (ms)', phase: 'ns64', key: 'simCpuMsPerReq', ratios: ['uf', 'ud'] },
  { label: 'throughput @64 conns (req/s)', phase: 'ns64', key: 'rps', ratios: ['uf', 'ud'] },
  { label: 'p99 @64 conns (ms)', phase: 'ns64', key: 'p99', ratios: ['uf', 'ud'] },
  { label: 'p50 @1 conn (ms)', phase: 'ns1', key: 'p50', ratios: ['uf', 'ud'] },
  { label: 'p99 @1 conn (ms)', phase: 'ns1', key: 'p99', ratios: ['uf', 'ud'] },
  { label: 'added p50 @1 conn vs direct (ms)', phase: 'ns1', key: 'p50', added: true, ratios: ['uf'] },
  { label: 'added p99 @1 conn vs direct (ms)', phase: 'ns1', key: 'p99', added: true, ratios: ['uf'] },
  { label: 'CPU per request, proxy process (ms)', phase: 's64', key: 'proxyCpuMsPerReq', paths: ['floor', 'understudy'], ratios: ['uf'] },
  { label: 'CPU per request, simulator (ms)', phase: 's64', key: 'simCpuMsPerReq', ratios: ['uf', 'ud'] },
  { label: 'throughput @64 conns (req/s)', phase: 's64', key: 'rps', ratios: ['uf', 'ud'] },
  { label: 'p99 @64 conns, full body (ms)', phase: 's64', key: 'p99', ratios: ['uf', 'ud'] },
  { label: 'p50 @1 conn, full body (ms)', phase: 's1', key: 'p50', ratios: ['uf', 'ud'] },
  { label: 'p99 @1 conn, full body (ms)', phase: 's1', key: 'p99', ratios: ['uf', 'ud'] },
  { label: 'p50 @1 conn, first byte (ms)', phase: 's1', key: 'ttfbP50', ratios: ['uf', 'ud'] },
  { label: 'p99 @1 conn, first byte (ms)', phase: 's1', key: 'ttfbP99', ratios: ['uf', 'ud'] },
  { label: 'added p50 @1 conn vs direct, full body (ms)', phase: 's1', key: 'p50', added: true, ratios: ['uf'] },
  { label: 'added p99 @1 conn vs direct, full body (ms)', phase: 's1', key: 'p99', added: true, ratios: ['uf'] },
  { label: 'added p50 @1 conn vs direct, first byte (ms)', phase: 's1', key: 'ttfbP50', added: true, ratios: ['uf'] },
];
const PATH_NAMES = ['direct', 'floor', 'understudy'];

/** Medians over rounds; ratios are medians of per-round ratios (each round's paths ran back to back). */
function summarize(rounds) {
  const value = (round, pathName, row) => {
    const r = round[row.phase]?.[pathName];
    if (!r) return null;
    const v = r[row.key];
    if (v === null || v === undefined) return null;
    if (!row.added) return v;
    const d = round[row.phase]?.direct?.[row.key];
    return d === undefined ? null : v - d;
  };
  return ROWS.map((row) => {
    const paths = row.paths ?? (row.added ? ['floor', 'understudy'] : PATH_NAMES);
    const values = {};
    for (const p of PATH_NAMES) values[p] = paths.includes(p) ? median(rounds.map((round) => value(round, p, row))) : null;
    const ratio = (num, den) =>
      median(
        rounds.map((round) => {
          const a = value(round, num, row);
          const b = value(round, den, row);
          return a === null || b === null || b === 0 ? null : a / b;
        }),
      );
    return {
      section: row.phase.startsWith('ns') ? 'non-stream' : 'stream',
      label: row.label,
      phase: row.phase,
      key: row.key,
      added: !!row.added,
      ...values,
      understudyOverFloor: row.ratios.includes('uf') ? ratio('understudy', 'floor') : null,
      understudyOverDirect: row.ratios.includes('ud') ? ratio('understudy', 'direct') : null,
    };
  });
}

function markdown(result) {
  const { meta, summary, peakRss, sanity, errors } = result;
  const lines = [];
  lines.push(`# Understudy bench — ${meta.startedAt}`);
  lines.push('');
  lines.push(
    `${meta.mode} run, ${meta.rounds} interleaved rounds; node ${meta.node}, ${meta.cpus}× ${meta.cpuModel}, ${meta.platform}; git ${meta.git}. ` +
      `Zero-latency simulator, ${CHUNKS}-chunk answer (${sanity.understudy?.nonStreamBytes ?? '?'} B JSON / ${sanity.understudy?.streamBytes ?? '?'} B SSE via understudy). ` +
      `Per round and path: ${meta.counts.c64.nonstream} + ${meta.counts.c64.stream} requests at 64 connections, ${meta.counts.c1.nonstream} + ${meta.counts.c1.stream} sequential on 1 connection. ` +
      `Values are medians of per-round values; ratios are medians of per-round ratios. Wall time ${meta.wallS.toFixed(1)} s.` +
      (meta.prof ? ' **The gateway was CPU-profiled during this run: its CPU and latency numbers are inflated.**' : ''),
  );
  lines.push('');
  lines.push('| | metric | direct | floor | understudy | understudy / floor | understudy / direct |');
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  for (const r of summary) {
    lines.push(`| ${r.section} | ${r.label} | ${fmt(r.direct)} | ${fmt(r.floor)} | ${fmt(r.understudy)} | ${fmtRatio(r.understudyOverFloor)} | ${fmtRatio(r.understudyOverDirect)} |`);
  }
  const mb = (b) => (b ? (b / 1048576).toFixed(1) : '–');
  const rssRatio = peakRss.floor && peakRss.understudy ? peakRss.understudy / peakRss.floor : null;
  lines.push(`| | peak RSS of the proxy process (MB) | – | ${mb(peakRss.floor)} | ${mb(peakRss.understudy)} | ${fmtRatio(rssRatio)} | – |`);
  lines.push('');
  const headline = (phase, key) => summary.find((r) => r.phase === phase && r.key === key && !r.added);
  const addedRow = (phase, key) => summary.find((r) => r.phase === phase && r.key === key && r.added);
  lines.push('Headline (understudy vs the hand-written floor):');
  lines.push('');
  lines.push(
    `- CPU per request: ${fmtRatio(headline('ns64', 'proxyCpuMsPerReq').understudyOverFloor)} the floor non-stream, ${fmtRatio(headline('s64', 'proxyCpuMsPerReq').understudyOverFloor)} streaming ` +
      `(${fmt(headline('ns64', 'proxyCpuMsPerReq').understudy)} vs ${fmt(headline('ns64', 'proxyCpuMsPerReq').floor)} ms; ${fmt(headline('s64', 'proxyCpuMsPerReq').understudy)} vs ${fmt(headline('s64', 'proxyCpuMsPerReq').floor)} ms).`,
  );
  lines.push(
    `- Throughput @64: ${fmtRatio(headline('ns64', 'rps').understudyOverFloor)} the floor non-stream, ${fmtRatio(headline('s64', 'rps').understudyOverFloor)} streaming.`,
  );
  lines.push(
    `- Added latency @1 (p50): ${fmt(addedRow('ns1', 'p50').understudy)} ms vs floor ${fmt(addedRow('ns1', 'p50').floor)} ms non-stream; ` +
      `${fmt(addedRow('s1', 'p50').understudy)} ms vs ${fmt(addedRow('s1', 'p50').floor)} ms streaming (full body), ` +
      `${fmt(addedRow('s1', 'ttfbP50').understudy)} ms vs ${fmt(addedRow('s1', 'ttfbP50').floor)} ms to first byte.`,
  );
  lines.push(`- Peak RSS: ${mb(peakRss.understudy)} MB vs floor ${mb(peakRss.floor)} MB (simulator ${mb(peakRss.simulator)} MB).`);
  lines.push('');
  lines.push(
    meta.streamUpstream
      ? 'Note: the gateway streams from upstream even for `stream:false` clients (`stream_upstream` defaults to true) and assembles the JSON itself; ' +
          'the floor forwards `stream:false` as is. The "CPU per request, simulator" rows show the upstream side of that difference ' +
          '(`--no-stream-upstream` runs the gateway with `stream_upstream: false`).'
      : 'Note: this run used `stream_upstream: false` on the gateway provider (`--no-stream-upstream`), so `stream:false` requests are forwarded as `stream:false`, as the floor does.',
  );
  const errorPaths = Object.entries(errors).filter(([, e]) => e.count > 0);
  if (errorPaths.length > 0) {
    lines.push('');
    lines.push(`**Errors:** ${errorPaths.map(([p, e]) => `${p}: ${e.count} (first: ${e.first})`).join('; ')}`);
  }
  lines.push('');
  return lines.join('\n');
}

function gitDescribe() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: here, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty ? `${head} (src/ modified)` : head;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------- main

async function main() {
  const started = performance.now();
  const startedAt = new Date();
  const log = (msg) => process.stderr.write(`${msg}\n`);
  const profDir = join(resultsDir, 'prof');

  const sim = spawnServer('simulator', 'sim-server.mjs', [JSON.stringify(SCENARIO)]);
  const simOrigin = new URL(await sim.ready).origin;
  const floor = spawnServer('floor', 'floor-proxy.mjs', [simOrigin]);
  const gwExecArgv = prof ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const gateway = spawnServer('understudy', 'gateway-server.mjs', [`${simOrigin}/v1`, noStreamUpstream ? 'no-stream-upstream' : 'stream-upstream'], gwExecArgv);
  const [floorUrl, gatewayUrl] = await Promise.all([floor.ready, gateway.ready]);

  const makePath = (name, origin, proc, model) => ({
    name,
    proc,
    pools: {
      64: new Pool(origin, { connections: 64, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 }),
      1: new Pool(origin, { connections: 1, pipelining: 1, headersTimeout: 30_000, bodyTimeout: 30_000 }),
    },
    bodies: { nonstream: bodyFor(model, false), stream: bodyFor(model, true) },
  });
  const paths = [
    makePath('direct', simOrigin, null, 'bench-model'),
    makePath('floor', new URL(floorUrl).origin, floor, 'bench-model'),
    makePath('understudy', new URL(gatewayUrl).origin, gateway, 'bench'),
  ];
  log(`bench: ${quick ? 'quick' : 'full'} run, ${profile.rounds} rounds; simulator ${simOrigin}, floor ${floorUrl}, understudy ${gatewayUrl}${prof ? ' (profiling the gateway)' : ''}`);

  const sanity = {};
  for (const p of paths) sanity[p.name] = await sanityCheck(p);

  log('bench: warming up');
  for (const p of paths) {
    for (const phase of PHASES) await measure(p, phase, sim, phase.conc === 64 ? profile.warmup.c64 : profile.warmup.c1);
  }

  const errors = Object.fromEntries(PATH_NAMES.map((n) => [n, { count: 0, first: undefined }]));
  const rounds = [];
  for (let r = 0; r < profile.rounds; r++) {
    const round = {};
    // Rotate the path order every round so no path always runs first (or right after the same neighbour).
    const order = paths.map((_, i) => paths[(i + r) % paths.length]);
    for (const phase of PHASES) {
      round[phase.id] = {};
      for (const p of order) {
        const m = await measure(p, phase, sim);
        round[phase.id][p.name] = m;
        if (m.errors > 0) {
          errors[p.name].count += m.errors;
          errors[p.name].first ??= m.firstError;
        }
      }
    }
    rounds.push(round);
    const u = round.ns64.understudy;
    const f = round.ns64.floor;
    log(
      `bench: round ${r + 1}/${profile.rounds} done (${((performance.now() - started) / 1000).toFixed(1)} s): ` +
        `non-stream CPU/req understudy ${fmt(u.proxyCpuMsPerReq)} ms vs floor ${fmt(f.proxyCpuMsPerReq)} ms, ${fmt(u.rps)} vs ${fmt(f.rps)} req/s`,
    );
  }

  const [floorStats, gatewayStats, simStats] = await Promise.all([floor.stats(), gateway.stats(), sim.stats()]);
  const peakRss = { floor: floorStats.maxRssBytes, understudy: gatewayStats.maxRssBytes, simulator: simStats.maxRssBytes };

  for (const p of paths) await Promise.all([p.pools[64].close(), p.pools[1].close()]);
  const profStartedAt = Date.now();
  await Promise.all([gateway.close(prof ? 15_000 : 3000), floor.close(), sim.close()]);

  const meta = {
    startedAt: startedAt.toISOString(),
    mode: quick ? 'quick' : 'full',
    rounds: profile.rounds,
    counts: { warmup: profile.warmup, c64: profile.c64, c1: profile.c1 },
    node: process.version,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    platform: `${os.platform()} ${os.release()}`,
    git: gitDescribe(),
    prof,
    streamUpstream: !noStreamUpstream,
    scenario: SCENARIO,
    wallS: (performance.now() - started) / 1000,
  };
  const summary = summarize(rounds);
  const result = { meta, sanity, peakRss, errors, summary, rounds };
  const md = markdown(result);
  process.stdout.write(`\n${md}`);

  if (prof) {
    const files = readdirSync(profDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(profDir, f));
    const newest = files.sort().at(-1);
    if (newest && Date.now() - profStartedAt < 60_000) {
      process.stdout.write(`\nGateway CPU profile: ${newest}\n\n${summarizeProfile(newest, 25)}\n`);
    }
  }

  if (write) {
    mkdirSync(resultsDir, { recursive: true });
    const stamp = startedAt.toISOString().replace(/:/g, '-');
    writeFileSync(join(resultsDir, `${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(resultsDir, `${stamp}.md`), md);
    writeFileSync(join(resultsDir, 'latest.md'), md);
    log(`bench: wrote bench/results/${stamp}.{json,md} and bench/results/latest.md`);
  }
  const totalErrors = Object.values(errors).reduce((a, e) => a + e.count, 0);
  if (totalErrors > 0) {
    log(`bench: ${totalErrors} failed requests (see the Errors line)`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(`bench: ${error?.stack ?? error}`);
  killAll();
  process.exit(1);
});
