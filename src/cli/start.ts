import { existsSync } from 'node:fs';
import { loadConfigFile } from '../config/load.js';
import type { Config } from '../config/types.js';
import { demoBanner } from '../demo/banner.js';
import { demoConfig, startDemoUpstreams } from '../demo/demo-setup.js';
import { startDemoTraffic } from '../demo/traffic.js';
import { startGateway } from '../server/gateway.js';
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
  const config = withOverrides(loadConfigFile(path, { env }), args);
  if (!isLoopback(config.server.host) && !args.insecure) {
    throw new UsageError(
      `Refusing to listen on ${config.server.host}: this gateway has no client authentication yet, so it binds loopback only.\n` +
        `Pass --insecure to listen on ${config.server.host} anyway (only behind your own authenticating proxy).`,
    );
  }
  const gateway = await startGateway(config);
  out.info(`understudy listening on ${gateway.url} with ${Object.keys(config.routes).length} route(s) from ${path}`);
  out.info('No client keys are configured: the gateway is open to anyone who can reach it on this address.');
  if (config.server.adminKey) out.info('The admin API is enabled (/admin/faults, fault headers), for callers with server.admin_key.');
  return () => gateway.close();
}

async function startDemo(args: StartArgs, out: Output): Promise<() => Promise<void>> {
  const upstreams = await startDemoUpstreams();
  const config = withOverrides(demoConfig(upstreams.primary.url, upstreams.backup.url, 4100), args);
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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/** A mistake in how the CLI was called or configured: printed without a stack trace. */
export class UsageError extends Error {
  override name = 'UsageError';
}
