// Shared plumbing for the bench's server children (simulator, floor proxy, gateway).
// The parent forks a child, the child starts its server and reports `{type:'ready', url}` over IPC.
// Afterwards the parent can ask `{type:'stats', id}` (CPU time + RSS of this process) and `{type:'close'}`.
// A child exits on its own when the parent goes away (IPC disconnect), so nothing outlives a crashed run.

/** @param {() => Promise<{ url: string, close: () => Promise<void> }>} start */
export async function runChild(start) {
  if (!process.send) throw new Error('bench child: must be started with child_process.fork');
  let server;
  process.on('disconnect', () => process.exit(0));
  process.on('message', async (msg) => {
    if (msg?.type === 'stats') {
      const cpu = process.cpuUsage();
      process.send({
        type: 'stats',
        id: msg.id,
        cpuUs: cpu.user + cpu.system,
        rssBytes: process.memoryUsage.rss(),
        maxRssBytes: process.resourceUsage().maxRSS * 1024,
      });
    } else if (msg?.type === 'close') {
      const timer = setTimeout(() => process.exit(0), 2000);
      timer.unref();
      await server?.close().catch(() => undefined);
      process.exit(0); // exits normally, so --cpu-prof gets written
    }
  });
  try {
    server = await start();
    process.send({ type: 'ready', url: server.url });
  } catch (error) {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
    process.exit(1);
  }
}
