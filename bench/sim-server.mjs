// Bench child: the zero-latency simulator. argv[2] is a JSON scenario for model `bench-model`.
import { createSimulator } from '../dist/simulator/index.js';
import { runChild } from './child-ipc.mjs';

await runChild(async () => {
  const scenario = JSON.parse(process.argv[2]);
  const sim = createSimulator({ host: '127.0.0.1', port: 0, models: { 'bench-model': scenario } });
  await sim.listen();
  return {
    url: sim.url, // http://127.0.0.1:PORT/v1
    async close() {
      await sim.close();
    },
  };
});
