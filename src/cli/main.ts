import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.js';
import { check } from './check.js';
import { keys } from './keys.js';
import { consoleOutput, type Output } from './output.js';
import { simulate } from './simulate.js';
import { start, UsageError } from './start.js';

const HELP = `understudy — an LLM gateway that keeps AI features working when models fail

usage:
  understudy start [--config FILE] [--port N] [--host H] [--insecure]
  understudy start --demo [--port N] [--no-traffic]   the gateway in front of simulated providers
  understudy simulate [--config FILE] [--port N]       a fake OpenAI-wire upstream with scripted faults
  understudy check FILE                                validate a config without starting
  understudy keys create --config FILE --name NAME [--routes a,b] [--targets p/m,p/*] [--rpm N] [--tpm N] [--expires 30d|ISO] [--meta k=v]
  understudy keys list --config FILE                   virtual keys: id, name, limits, status (never the keys)
  understudy keys revoke --config FILE ID
  understudy help

The config path may also come from UNDERSTUDY_CONFIG, or ./understudy.yaml.
`;

/** Runs the CLI. Resolves to a stop function for long-running commands, or an exit code. */
export async function main(argv: string[], out: Output = consoleOutput): Promise<number | (() => Promise<void>)> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start': {
        const { values } = parseArgs({
          args: rest,
          options: {
            config: { type: 'string', short: 'c' },
            demo: { type: 'boolean', default: false },
            port: { type: 'string', short: 'p' },
            host: { type: 'string' },
            insecure: { type: 'boolean', default: false },
            'no-traffic': { type: 'boolean', default: false },
          },
        });
        return await start(
          {
            ...(values.config ? { config: values.config } : {}),
            ...(values.port ? { port: parsePort(values.port) } : {}),
            ...(values.host ? { host: values.host } : {}),
            demo: values.demo === true,
            insecure: values.insecure === true,
            traffic: values['no-traffic'] !== true,
          },
          out,
        );
      }
      case 'simulate': {
        const { values } = parseArgs({
          args: rest,
          options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, host: { type: 'string' } },
        });
        return await simulate(
          {
            ...(values.config ? { config: values.config } : {}),
            ...(values.port ? { port: parsePort(values.port) } : {}),
            ...(values.host ? { host: values.host } : {}),
          },
          out,
        );
      }
      case 'keys':
        return await keys(rest, out);
      case 'check': {
        const { positionals, values } = parseArgs({ args: rest, allowPositionals: true, options: { config: { type: 'string', short: 'c' } } });
        return check(positionals[0] ?? values.config, out);
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out.info(HELP);
        return command === undefined ? 2 : 0;
      default:
        out.error(`unknown command '${command}'\n\n${HELP}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      out.error(error.message);
      return 1;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      out.error(`${error.message}\n\n${HELP}`);
      return 2;
    }
    throw error;
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port expects a number from 0 to 65535, got '${text}'`);
  return port;
}
