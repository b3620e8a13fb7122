import { request } from 'undici';

export interface TrafficLine {
  at: Date;
  status: number;
  servedBy: string;
  attempts: string;
  reason: string;
  /** Targets passed over without a call (`x-understudy-skipped`). */
  skipped: string;
  text: string;
  ms: number;
}

/** Sends one demo request and reads back who answered (from the headers) and what. */
export async function sendDemoRequest(url: string, n: number): Promise<TrafficLine> {
  const started = Date.now();
  const response = await request(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: `Demo request #${n}` }] }),
  });
  const body = (await response.body.json()) as { choices?: { message?: { content?: string } }[]; error?: { message?: string } };
  const header = (name: string): string => {
    const value = response.headers[name];
    return Array.isArray(value) ? value.join(',') : (value ?? '');
  };
  return {
    at: new Date(),
    status: response.statusCode,
    servedBy: header('x-understudy-served-by') || '-',
    attempts: header('x-understudy-attempts'),
    reason: header('x-understudy-fallback-reason'),
    skipped: header('x-understudy-skipped'),
    text: body.choices?.[0]?.message?.content ?? body.error?.message ?? '',
    ms: Date.now() - started,
  };
}

export function formatTrafficLine(line: TrafficLine): string {
  const time = line.at.toISOString().slice(11, 19);
  const circuitOpen = line.skipped.includes('circuit open');
  const fallback = !line.reason ? 'primary served' : circuitOpen ? `FALLBACK (circuit open: ${line.reason})` : `FALLBACK (${line.reason})`;
  const text = line.text.length > 60 ? `${line.text.slice(0, 57)}...` : line.text;
  return `  ${time}  ${line.status}  served-by=${line.servedBy.padEnd(26)} attempts=${line.attempts}  ${fallback.padEnd(40)} ${String(line.ms).padStart(4)} ms  "${text}"`;
}

/** Sends a request every `everyMs` until stopped; prints a line per request. */
export function startDemoTraffic(url: string, everyMs: number, print: (line: string) => void): () => void {
  let n = 0;
  let stopped = false;
  const tick = async (): Promise<void> => {
    n++;
    try {
      print(formatTrafficLine(await sendDemoRequest(url, n)));
    } catch (error) {
      if (!stopped) print(`  request #${n} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  const timer = setInterval(() => void tick(), everyMs);
  void tick();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
