import type { ChatResponse } from '../../canonical/chat.js';
import { UpstreamFailure } from '../../canonical/failure.js';
import { normaliseResponse } from './normalise.js';

/**
 * Parses a non-streaming OpenAI-wire body, normalised (see `normalise.ts`); anything that is not
 * a chat completion is malformed.
 */
export function parseOpenAIResponse(text: string): ChatResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UpstreamFailure({
      kind: 'malformed_response',
      code: 'invalid_json',
      message: `upstream body is not JSON: ${text.slice(0, 120)}`,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { choices?: unknown }).choices)) {
    throw new UpstreamFailure({
      kind: 'malformed_response',
      code: 'not_a_completion',
      message: 'upstream body is not a chat completion (no choices)',
    });
  }
  const response = parsed as ChatResponse;
  for (const choice of response.choices) {
    if (typeof choice !== 'object' || choice === null || typeof choice.message !== 'object' || choice.message === null) {
      throw new UpstreamFailure({ kind: 'malformed_response', code: 'not_a_completion', message: 'choice without message' });
    }
  }
  return normaliseResponse(response);
}
