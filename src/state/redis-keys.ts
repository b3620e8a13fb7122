/**
 * Every key the Redis state store uses, under one prefix (default `understudy:`). A key holding
 * two caller-given parts encodes the first (`encodeURIComponent`), so no two pairs collide.
 *
 *   <p>cooldown:<target>                 hash  u (until, epoch ms), r (reason)         TTL: until + grace
 *   <p>breaker:<target>                  hash  v (version), s (state JSON)             TTL: idle (24 h)
 *   <p>budget:<scope>                    hash  f:<bucket>, r:<bucket> (counts)         TTL: budget TTL; old buckets pruned
 *   <p>load:<target>                     hash  n:<instance>, t:<instance> (lease), ms, samples, at, hr   TTL: idle
 *   <p>cursor:<route#rung>               int   next turn                               TTL: idle
 *   <p>affinity:<scope>:<session>        JSON  { targetId, expiresAt }                 TTL: the mapping's own
 *   <p>cache:<scope>                     hash  key → `expiresAt|answer`                 TTL: latest expiry + grace
 *   <p>cache-order:<scope>               zset  key by store order (evicts the oldest)  TTL: as cache
 *   <p>quota:<key>:<windowMs>:<start>    float the window's count                      TTL: window end + grace
 */
export class RedisKeys {
  constructor(private readonly prefix: string) {}

  cooldown(targetId: string): string {
    return `${this.prefix}cooldown:${targetId}`;
  }

  breaker(targetId: string): string {
    return `${this.prefix}breaker:${targetId}`;
  }

  budget(scope: string): string {
    return `${this.prefix}budget:${scope}`;
  }

  load(targetId: string): string {
    return `${this.prefix}load:${targetId}`;
  }

  cursor(key: string): string {
    return `${this.prefix}cursor:${key}`;
  }

  affinity(scope: string, key: string): string {
    return `${this.prefix}affinity:${encodeURIComponent(scope)}:${key}`;
  }

  cache(scope: string): string {
    return `${this.prefix}cache:${scope}`;
  }

  cacheOrder(scope: string): string {
    return `${this.prefix}cache-order:${scope}`;
  }

  quota(key: string, windowMs: number, start: number): string {
    return `${this.prefix}quota:${key}:${windowMs}:${start}`;
  }
}
