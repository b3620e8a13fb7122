// A test-only child process: the built gateway (dist/) with `--expose-gc`, so a test can ask for
// its heap after a forced collection, and for how many request records it made per request id.
// Nothing of this exists in the gateway itself. Driven over IPC by child-gateway.ts.
import { pino } from 'pino';
import { parseConfig } from '../../dist/config/load.js';
import { startGateway } from '../../dist/server/gateway.js';
import { createLogger } from '../../dist/telemetry/logger.js';

const records = new Map();
const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: true }));
const config = parseConfig(process.env.UNDERSTUDY_FUZZ_CONFIG ?? '', 'fuzz.yaml', { env: {} });
const gateway = await startGateway(config, {
  logger,
  onRecord: (record) => records.set(record.requestId, (records.get(record.requestId) ?? 0) + 1),
});

const collect = async () => {
  for (let i = 0; i < 6; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

process.on('message', async (message) => {
  const { id, type } = message;
  if (type === 'heap') {
    await collect();
    process.send({ id, heapUsed: process.memoryUsage().heapUsed });
  } else if (type === 'records') {
    process.send({ id, counts: message.ids.map((requestId) => records.get(requestId) ?? 0) });
  } else if (type === 'forget') {
    for (const requestId of message.ids) records.delete(requestId);
    process.send({ id });
  } else if (type === 'close') {
    await gateway.close();
    process.send({ id });
    process.disconnect();
  }
});
process.send({ id: 0, port: gateway.port });
