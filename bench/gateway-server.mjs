// Bench child: the Understudy gateway from dist/, one route `bench` -> [sim/bench-model].
// argv[2] is the simulator base URL (…/v1); argv[3] === 'no-stream-upstream' sets `stream_upstream: false`.
import { parseConfig } from '../dist/config/load.js';
import { startGateway } from '../dist/server/gateway.js';
import { runChild } from './child-ipc.mjs';

await runChild(async () => {
  const yaml = `server: { host: 127.0.0.1, port: 0 }
logging: { level: silent }
providers:
  sim: { type: openai, base_url: "${process.argv[2]}"${process.argv[3] === 'no-stream-upstream' ? ', stream_upstream: false' : ''} }
routes:
  bench:
    ladder:
      - targets: [sim/bench-model]
`;
  const gateway = await startGateway(parseConfig(yaml, 'bench'));
  return { url: `http://127.0.0.1:${gateway.port}`, close: () => gateway.close() };
});
