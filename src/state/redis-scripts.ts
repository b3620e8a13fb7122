import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * The Lua scripts of the Redis state store: one per operation that reads and then writes, so each
 * runs atomically in Redis. Every key a script touches is passed in KEYS (none is built inside a
 * script). Numbers go out of a script as strings: Redis turns a Lua number reply into an integer,
 * and `tostring` keeps only 14 digits; `fmt` keeps all 17. Times for garbage-collection TTLs
 * and in-flight leases come from Redis's own clock (`TIME`), so every instance agrees on them;
 * times that decide an answer (expiry of a cooldown, an answer, a mapping) come from the caller.
 */
const PRELUDE = `
if redis.replicate_commands then redis.replicate_commands() end
local function fmt(x) return string.format('%.17g', x) end
local function nowms() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
-- Extends a key's TTL to at least ttl ms (never shortens it).
local function keep(key, ttl)
  local left = redis.call('PTTL', key)
  if left < ttl then redis.call('PEXPIRE', key, string.format('%d', ttl)) end
end
-- A garbage-collection TTL for something valid until expiry (epoch ms): the time left by Redis's clock
-- plus a grace, so a caller whose clock runs behind (or a test's fake clock) still finds it.
local function gcttl(expiry, grace) local left = expiry - nowms() if left < 0 then left = 0 end return left + grace end
`;

/** Cooldown: KEYS[1] the target's hash {u, r}; ARGV untilMs, reason, graceMs. A longer cooldown in force is kept. */
export const SET_COOLDOWN = `${PRELUDE}
local current = tonumber(redis.call('HGET', KEYS[1], 'u'))
local untilMs = tonumber(ARGV[1])
if current and current >= untilMs then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[1], 'r', ARGV[2])
redis.call('PEXPIRE', KEYS[1], string.format('%d', gcttl(untilMs, tonumber(ARGV[3]))))
return 1
`;

/** Breaker compare-and-set: KEYS[1] the target's hash {v, s}; ARGV expected version, state JSON, idle TTL. */
export const CAS_BREAKER = `
local version = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if version ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', string.format('%d', version + 1), 's', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/**
 * Retry budget, shared helpers: each scope is a hash of `f:<bucket>` (first attempts) and
 * `r:<bucket>` (retries); a write drops the buckets that left the window.
 */
const BUDGET = `
local bucket = tonumber(ARGV[1])
local oldest = bucket - tonumber(ARGV[2])
local function counts(key)
  local flat = redis.call('HGETALL', key)
  local firsts, retries = 0, 0
  for i = 1, #flat, 2 do
    local index = tonumber(string.sub(flat[i], 3))
    if index and index > oldest and index <= bucket then
      if string.sub(flat[i], 1, 1) == 'f' then firsts = firsts + tonumber(flat[i + 1]) else retries = retries + tonumber(flat[i + 1]) end
    end
  end
  return firsts, retries
end
local function count(key, kind, ttl)
  redis.call('HINCRBY', key, kind .. ':' .. ARGV[1], 1)
  for _, field in ipairs(redis.call('HKEYS', key)) do
    local index = tonumber(string.sub(field, 3))
    if index and index <= oldest then redis.call('HDEL', key, field) end
  end
  redis.call('PEXPIRE', key, ttl)
end
`;

/** KEYS the scopes' hashes; ARGV bucket, buckets, TTL. */
export const ADD_FIRST_ATTEMPT = `${BUDGET}
for _, key in ipairs(KEYS) do count(key, 'f', ARGV[3]) end
return 1
`;

/** KEYS the scopes' hashes; ARGV bucket, buckets, TTL, ratio, floor. Mirrors `hasRetryRoom`. */
export const TRY_TAKE_RETRY = `${BUDGET}
local ratio, floor = tonumber(ARGV[4]), tonumber(ARGV[5])
for _, key in ipairs(KEYS) do
  local firsts, retries = counts(key)
  if retries >= math.max(floor, math.floor(ratio * firsts + 1e-9)) then return 0 end
end
for _, key in ipairs(KEYS) do count(key, 'r', ARGV[3]) end
return 1
`;

/**
 * A target's load hash: `n:<instance>` attempts in flight and `t:<instance>` that count's lease
 * (Redis ms), `ms`/`samples`/`at` the latency EWMA, `hr` the headroom JSON. Writers drop the
 * counts of instances whose lease ran out (an instance that died with attempts in flight).
 */
const LOAD = `
local function prune(key, now)
  local flat = redis.call('HGETALL', key)
  for i = 1, #flat, 2 do
    local field = flat[i]
    if string.sub(field, 1, 2) == 't:' and tonumber(flat[i + 1]) <= now then
      redis.call('HDEL', key, field, 'n:' .. string.sub(field, 3))
    end
  end
end
local function inflight(key, instance, count, lease, now)
  if count > 0 then
    redis.call('HSET', key, 'n:' .. instance, string.format('%d', count), 't:' .. instance, string.format('%d', now + lease))
  else
    redis.call('HDEL', key, 'n:' .. instance, 't:' .. instance)
  end
end
`;

/** KEYS the targets' load hashes; ARGV instance, lease, idle TTL, then one count per key (this instance's, absolute). */
export const SET_IN_FLIGHT = `${PRELUDE}${LOAD}
local now = nowms()
for i, key in ipairs(KEYS) do
  prune(key, now)
  inflight(key, ARGV[1], tonumber(ARGV[3 + i]), tonumber(ARGV[2]), now)
  redis.call('PEXPIRE', key, ARGV[3])
end
return 1
`;

/**
 * KEYS[1] the target's load hash; ARGV instance, lease, idle TTL, count (absolute), ttftMs or '',
 * alpha, now, headroom JSON or ''. Mirrors `foldLatency`.
 */
export const END_ATTEMPT = `${PRELUDE}${LOAD}
local key = KEYS[1]
local now = nowms()
prune(key, now)
inflight(key, ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[2]), now)
if ARGV[5] ~= '' then
  local sample, alpha = tonumber(ARGV[5]), tonumber(ARGV[6])
  local ms, samples = tonumber(redis.call('HGET', key, 'ms')), tonumber(redis.call('HGET', key, 'samples'))
  if ms and samples then
    ms = ms + alpha * (sample - ms)
    samples = samples + 1
  else
    ms, samples = sample, 1
  end
  redis.call('HSET', key, 'ms', fmt(ms), 'samples', string.format('%d', samples), 'at', ARGV[7])
end
if ARGV[8] ~= '' then redis.call('HSET', key, 'hr', ARGV[8]) end
redis.call('PEXPIRE', key, ARGV[3])
return 1
`;

/**
 * One read per request: KEYS the load hashes, then the cursors, then the affinity key if any;
 * ARGV number of targets, number of cursors, idle TTL. Returns, per target, its live in-flight
 * sum, ms, samples, at, headroom ('' when absent); per cursor, its turn; then the affinity value.
 */
export const READ_BALANCE = `${PRELUDE}
local targets, cursors = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = nowms()
local out = {}
for i = 1, targets do
  local flat = redis.call('HGETALL', KEYS[i])
  local fields = {}
  for j = 1, #flat, 2 do fields[flat[j]] = flat[j + 1] end
  local live = 0
  for field, value in pairs(fields) do
    if string.sub(field, 1, 2) == 'n:' then
      local lease = tonumber(fields['t:' .. string.sub(field, 3)])
      if lease and lease > now then live = live + tonumber(value) end
    end
  end
  table.insert(out, string.format('%d', live))
  table.insert(out, fields['ms'] or '')
  table.insert(out, fields['samples'] or '')
  table.insert(out, fields['at'] or '')
  table.insert(out, fields['hr'] or '')
end
for i = targets + 1, targets + cursors do
  local turn = redis.call('INCR', KEYS[i]) - 1
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
  table.insert(out, string.format('%d', turn))
end
local affinity = KEYS[targets + cursors + 1]
if affinity then table.insert(out, redis.call('GET', affinity) or '') end
return out
`;

/**
 * Answer cache: KEYS[1] the scope's hash (key → `expiresAt|answer`), KEYS[2] its store order (a
 * sorted set scored by a strictly increasing µs stamp); ARGV key, answer, expiresAt, maxEntries, graceMs.
 */
export const PUT_ANSWER = `${PRELUDE}
local t = redis.call('TIME')
local stamp = tonumber(t[1]) * 1000000 + tonumber(t[2])
local top = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if top[2] and tonumber(top[2]) >= stamp then stamp = tonumber(top[2]) + 1 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. '|' .. ARGV[2])
redis.call('ZADD', KEYS[2], string.format('%.0f', stamp), ARGV[1])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[4])
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
    redis.call('HDEL', KEYS[1], old)
    redis.call('ZREM', KEYS[2], old)
  end
end
local ttl = gcttl(tonumber(ARGV[3]), tonumber(ARGV[5]))
keep(KEYS[1], ttl)
keep(KEYS[2], ttl)
return 1
`;

/**
 * Quota counter: KEYS[1] the window's counter; ARGV amount, limit, '1' when unlimited (or when
 * adding without a check), TTL (the window's time left plus a grace). Returns {allowed, used}.
 */
export const CONSUME_QUOTA = `${PRELUDE}
local used = redis.call('GET', KEYS[1]) or '0'
if ARGV[3] ~= '1' and tonumber(used) + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, used} end
used = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
keep(KEYS[1], tonumber(ARGV[4]))
return {1, used}
`;

/** A script sent by its SHA1 (EVALSHA), and in full only when the server does not have it yet. */
export class LuaScript {
  private readonly sha: string;
  readonly source: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(client: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    const rest = [keys.length, ...keys, ...args];
    try {
      return await client.call('EVALSHA', [this.sha, ...rest]);
    } catch (error) {
      // The reply's first word is Redis's error code; NOSCRIPT: not cached there yet (or flushed).
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.call('EVAL', [this.source, ...rest]);
    }
  }
}
