/**
 * The built gateway in a child process (`node --expose-gc test/fuzz/gateway-process.mjs`): the
 * fuzz tests drive it over real sockets and ask it, over IPC, for its heap after a forced GC and
 * for its request records. Needs `npm run build` first (as `npm test` does).
 */
import { fork, type ChildProcess } from 'node:child_process';

const SCRIPT = new URL('./gateway-process.mjs', import.meta.url).pathname;

interface Reply {
  id: number;
  port?: number;
  heapUsed?: number;
  counts?: number[];
}

export class ChildGateway {
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply) => void>();
  private readonly readErrors: () => string;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    stderr: () => string,
  ) {
    child.on('message', (reply: Reply) => {
      this.waiting.get(reply.id)?.(reply);
      this.waiting.delete(reply.id);
    });
    this.readErrors = stderr;
  }

  /** Starts the gateway from `yaml` and resolves once it listens. */
  static start(yaml: string): Promise<ChildGateway> {
    const child = fork(SCRIPT, [], {
      execArgv: ['--expose-gc'],
      env: { PATH: process.env.PATH ?? '', UNDERSTUDY_FUZZ_CONFIG: yaml },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    return new Promise((resolve, reject) => {
      child.once('message', (reply: Reply) => resolve(new ChildGateway(child, reply.port ?? 0, () => stderr)));
      child.once('exit', (code) => reject(new Error(`the gateway process exited (${code}) before listening:\n${stderr}`)));
    });
  }

  /** Still running (a crash would have ended it). */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** What the process wrote to stderr (a crash's stack trace). */
  get errors(): string {
    return this.readErrors();
  }

  /** heapUsed after forced full collections. */
  async heapUsed(): Promise<number> {
    return (await this.ask({ type: 'heap' })).heapUsed ?? Number.NaN;
  }

  /** How many request records the gateway made for each id. */
  async recordCounts(ids: readonly string[]): Promise<number[]> {
    return (await this.ask({ type: 'records', ids })).counts ?? [];
  }

  /** Drops the ids' counts (so the test's own bookkeeping does not weigh on the heap figures). */
  async forget(ids: readonly string[]): Promise<void> {
    await this.ask({ type: 'forget', ids });
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.ask({ type: 'close' }).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private ask(message: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the gateway process did not answer '${String(message['type'])}'`));
      }, 10_000);
      this.waiting.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.send({ id, ...message });
    });
  }
}
