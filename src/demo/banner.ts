import { DEMO_SCHEDULE } from './demo-setup.js';

/** What a newcomer sees when the demo starts: where it is, how to call it, what to watch for. */
export function demoBanner(url: string): string {
  const down = DEMO_SCHEDULE.downMs / 1000;
  const every = DEMO_SCHEDULE.everyMs / 1000;
  const first = DEMO_SCHEDULE.firstOutageMs / 1000;
  return `
  Understudy demo: the gateway is running at ${url}
  In front of two simulated providers (no real model is called, no key is needed).

  Route "chat":  sim-openai/gpt-4o  →  sim-backup/llama-3.1-70b  →  static answer
  The primary is DOWN (HTTP 503) for ${down} s of every ${every} s; the first outage starts in ${first} s.

  Try it:
    curl -si ${url}/chat/completions -H 'content-type: application/json' \\
      -d '{"model":"chat","messages":[{"role":"user","content":"Hello"}]}'

  Watch the response headers:
    x-understudy-served-by         which provider/model answered
    x-understudy-fallback-reason   why the request moved (absent when the primary served)
    x-understudy-attempts          how many upstream calls it took

  The demo sends itself a request every 2 s and prints one line per request below,
  so you can watch the fallback happen. Ctrl-C stops it.
`;
}
