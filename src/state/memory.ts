import type { Cooldown, StateStore } from './state-store.js';

/** In-process state: the default for a single gateway process. */
export class MemoryStateStore implements StateStore {
  private readonly cooldowns = new Map<string, Cooldown>();

  async getCooldown(targetId: string, now: number): Promise<Cooldown | undefined> {
    const cooldown = this.cooldowns.get(targetId);
    if (!cooldown) return undefined;
    if (cooldown.untilMs <= now) {
      this.cooldowns.delete(targetId);
      return undefined;
    }
    return cooldown;
  }

  async setCooldown(targetId: string, cooldown: Cooldown): Promise<void> {
    const existing = this.cooldowns.get(targetId);
    if (existing && existing.untilMs >= cooldown.untilMs) return;
    this.cooldowns.set(targetId, cooldown);
  }

  async close(): Promise<void> {
    this.cooldowns.clear();
  }
}
