/**
 * Removes anything key-shaped from text that may leave the gateway (upstream error bodies,
 * transport error messages). Known secrets are replaced exactly; generic patterns catch the rest.
 */
const KEY_PATTERNS: RegExp[] = [
  /\bsk-[A-Za-z0-9_\-*.]{6,}/g, // OpenAI-style keys, including masked "sk-abc...****"
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{8,}/gi,
  /\bAIza[0-9A-Za-z_\-]{20,}/g, // Google API keys
  /\b(?:api[_-]?key|key|token|secret)=([^&\s"']{6,})/gi,
];

export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  for (const pattern of KEY_PATTERNS) {
    out = out.replace(pattern, (match) => {
      const eq = match.indexOf('=');
      return eq > 0 && !/^(Bearer|Basic)/i.test(match) ? `${match.slice(0, eq + 1)}[redacted]` : '[redacted]';
    });
  }
  return out;
}
