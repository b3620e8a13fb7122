/** OpenAI-shaped error bodies with the real service's wording. */

export interface OpenAIErrorBody {
  error: {
    message: string;
    type: string | null;
    param: string | null;
    code: string | null;
    /** Only Azure OpenAI echoes the status inside the error object. */
    status?: number;
  };
}

export function openAIError(message: string, type: string | null, param: string | null, code: string | null): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

/** `sk-abc…wxyz` → `sk-abc*****wxyz`, the way the API echoes a bad key. */
export function redactKey(key: string): string {
  if (key.length <= 8) return `${key.slice(0, 3)}${'*'.repeat(Math.max(key.length - 3, 4))}`;
  return `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

export const invalidJson = (): OpenAIErrorBody =>
  openAIError(
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    'invalid_request_error',
    null,
    null,
  );

export const missingModel = (): OpenAIErrorBody =>
  openAIError('you must provide a model parameter', 'invalid_request_error', null, null);

export const missingParameter = (param: string): OpenAIErrorBody =>
  openAIError(`Missing required parameter: '${param}'.`, 'invalid_request_error', param, 'missing_required_parameter');

export const modelNotFound = (model: string): OpenAIErrorBody =>
  openAIError(
    `The model \`${model}\` does not exist or you do not have access to it.`,
    'invalid_request_error',
    null,
    'model_not_found',
  );

export const invalidUrl = (method: string, path: string): OpenAIErrorBody =>
  openAIError(`Invalid URL (${method} ${path})`, 'invalid_request_error', null, null);

export const invalidApiKey = (key: string | undefined): OpenAIErrorBody =>
  key === undefined || key === ''
    ? openAIError(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (i.e. YOUR_KEY), when using HTTP Basic Auth, which in turn ...",
        'invalid_request_error',
        null,
        'invalid_api_key',
      )
    : openAIError(
        `Incorrect API key provided: ${redactKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_request_error',
        null,
        'invalid_api_key',
      );

export const rateLimited = (): OpenAIErrorBody =>
  openAIError('Rate limit reached for requests', 'requests', null, 'rate_limit_exceeded');

export const insufficientQuota = (): OpenAIErrorBody =>
  openAIError(
    'You exceeded your current quota, please check your plan and billing details.',
    'insufficient_quota',
    null,
    'insufficient_quota',
  );

export const contextLengthExceeded = (limit: number, tokens: number): OpenAIErrorBody =>
  openAIError(
    `This model's maximum context length is ${limit} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
    'invalid_request_error',
    'messages',
    'context_length_exceeded',
  );

/** Azure OpenAI prompt filter (shape of fixtures/errors/azure-openai.prompt-filtered.minimal.400.json). */
export const contentFiltered = (): OpenAIErrorBody => ({
  error: {
    message:
      "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
    type: null,
    param: 'prompt',
    code: 'content_filter',
    status: 400,
  },
});

export const invalidTemperature = (): OpenAIErrorBody =>
  openAIError(
    "Invalid value for 'temperature': expected a number between 0 and 2.",
    'invalid_request_error',
    'temperature',
    'invalid_value',
  );

/** Body of fixtures/errors/openai.unsupported_parameter.400.json. */
export const unsupportedParameter = (): OpenAIErrorBody =>
  openAIError(
    "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
    'invalid_request_error',
    'max_tokens',
    'unsupported_parameter',
  );

const STATUS_ERRORS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: 'Invalid request.', type: 'invalid_request_error', code: null },
  401: { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' },
  403: {
    message: 'Country, region, or territory not supported',
    type: 'request_forbidden',
    code: 'unsupported_country_region_territory',
  },
  404: { message: 'The requested resource was not found.', type: 'invalid_request_error', code: null },
  408: { message: 'Request timed out.', type: 'timeout', code: null },
  409: { message: 'The request conflicted with another request. Please retry.', type: 'invalid_request_error', code: null },
  422: { message: 'The request could not be processed.', type: 'invalid_request_error', code: null },
  429: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' },
  500: {
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    code: null,
  },
  502: { message: 'Bad gateway.', type: 'server_error', code: null },
  503: { message: 'The engine is currently overloaded, please try again later', type: 'server_error', code: null },
  504: { message: 'Gateway timeout.', type: 'server_error', code: null },
  529: { message: 'The server is currently overloaded, please try again later', type: 'server_error', code: null },
};

/** A realistic error body for an arbitrary 4xx/5xx status. */
export function errorForStatus(status: number, message?: string): OpenAIErrorBody {
  const known = STATUS_ERRORS[status];
  const fallback =
    status >= 500
      ? { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', code: null }
      : { message: 'Invalid request.', type: 'invalid_request_error', code: null };
  const e = known ?? fallback;
  return openAIError(message ?? e.message, e.type, null, e.code);
}
