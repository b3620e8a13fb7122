import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { loadConfigFile } from '../config/load.js';
import { defaultStore } from '../config/store-config.js';
import type { Config } from '../config/types.js';
import { demoBanner } from '../demo/banner.js';
import { demoConfig, startDemoUpstreams } from '../demo/demo-setup.js';
import { startDemoTraffic } from '../demo/traffic.js';
import { startGateway } from '../server/gateway.js';
import { startAccess } from './access-mode.js';
import type { Output } from './output.js';

export interface StartArgs {
  config?: string;
  demo: boolean;
  port?: number;
  host?: string;
  insecure: boolean;
  traffic: boolean;
}

export const NO_CONFIG_HELP = `understudy start needs a config file, and none was given.

  Pass one with --config understudy.yaml (or set UNDERSTUDY_CONFIG, or put understudy.yaml
  in the current directory). A minimal one:

    server: { host: 127.0.0.1, port: 4100 }
    providers:
      openai: { type: openai, base_url: https://api.openai.com/v1, api_key: \${env:OPENAI_API_KEY} }
      local:  { type: openai-compatible, base_url: http://127.0.0.1:11434/v1 }
    routes:
      chat:
        ladder:
          - targets: [openai/gpt-4o]
          - targets: [local/llama3]
          - static: "The assistant is busy right now. Please try again in a minute."

  Check it with: understudy check understudy.yaml
  Or see fallback happen first with the built-in simulated providers: understudy start --demo
`;

/** Finds the config path: --config, then UNDERSTUDY_CONFIG, then ./understudy.yaml. */
export function configPath(args: StartArgs, env: Record<string, string | undefined>): string | undefined {
  if (args.config) return args.config;
  if (env.UNDERSTUDY_CONFIG) return env.UNDERSTUDY_CONFIG;
  return existsSync('understudy.yaml') ? 'understudy.yaml' : undefined;
}

/** `understudy start`: the gateway with a config, or the demo. Resolves to a stop function. */
export async function start(args: StartArgs, out: Output, env: Record<string, string | undefined> = process.env): Promise<() => Promise<void>> {
  if (args.demo) return startDemo(args, out);
  const path = configPath(args, env);
  if (!path) throw new UsageError(NO_CONFIG_HELP);
  const config = withRequestLog(withOverrides(loadConfigFile(path, { env }), args), dirname(resolvePath(path)));
  // Virtual keys: in open mode (no keys) only loopback, unless --insecure (access-mode.ts).
  const access = await startAccess(config, dirname(resolvePath(path)), { insecure: args.insecure, loopback: isLoopback(config.server.host) });
  // Provider credentials (`api_key(s)`, `${file:...}` secrets) are reloaded when the file or a secret changes.
  const gateway = await startGateway(config, { watch: { path, env }, keys: access.store });
  out.info(`understudy listening on ${gateway.url} with ${Object.keys(config.routes).length} route(s) from ${path}`);
  out.info(access.banner);
  if (config.server.adminKey) out.info('The admin API is enabled (/admin/faults, fault headers), for callers with server.admin_key.');
  // SIGTERM/SIGINT (bin.ts): requests in flight get the grace period, then end cleanly.
  return () => gateway.close({ graceMs: config.server.shutdownGraceMs });
}

async function startDemo(args: StartArgs, out: Output): Promise<() => Promise<void>> {
  const upstreams = await startDemoUpstreams();
  const config = withRequestLog(withOverrides(demoConfig(upstreams.primary.url, upstreams.backup.url, 4100), args), join(tmpdir(), 'understudy-demo'));
  let gateway;
  try {
    gateway = await startGateway(config);
  } catch (error) {
    await upstreams.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new UsageError(`Port ${config.server.port} is in use. Start the demo on another one: understudy start --demo --port 4101`);
    }
    throw error;
  }
  out.info(demoBanner(gateway.url));
  const stopTraffic = args.traffic ? startDemoTraffic(gateway.url, 2_000, (line) => out.info(line)) : () => undefined;
  return async () => {
    stopTraffic();
    await gateway.close();
    await upstreams.close();
  };
}

function withOverrides(config: Config, args: StartArgs): Config {
  return {
    ...config,
    server: { ...config.server, port: args.port ?? config.server.port, host: args.host ?? config.server.host },
  };
}

/** The request log defaults to SQLite in `dir` when the config has no `store:` (`backend: none` turns it off). */
function withRequestLog(config: Config, dir: string): Config {
  return config.store ? config : { ...config, store: defaultStore(dir) };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** A mistake in how the CLI was called or configured: printed without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
