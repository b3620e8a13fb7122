/**
 * The subset of the Gemini API (generativelanguage v1beta) wire format Understudy speaks, in its
 * proto3 JSON (camelCase) mapping. Field names follow `../shared/conformance/gemini/proto` and are
 * checked against `gemini-v1beta.strict.schema.json` in the tests. Responses may carry more than
 * is typed here (live payloads have fields absent from the public protos); we read only these.
 */

export type GeminiRole = 'user' | 'model';

export interface GeminiBlob {
  mimeType: string;
  /** Base64. */
  data: string;
}

export interface GeminiFileData {
  fileUri: string;
  mimeType?: string;
}

export interface GeminiFunctionCall {
  /** Set by some API versions; Understudy never sends it (calls are matched by name). */
  id?: string;
  name: string;
  args?: Record<string, unknown>;
}

export interface GeminiFunctionResponse {
  id?: string;
  name: string;
  response: Record<string, unknown>;
}

/** A Part holds exactly one of its data members (`oneof data`) plus optional thought markers. */
export interface GeminiPart {
  text?: string;
  inlineData?: GeminiBlob;
  fileData?: GeminiFileData;
  functionCall?: GeminiFunctionCall;
  functionResponse?: GeminiFunctionResponse;
  /** The part is the model's thinking (only present when `includeThoughts` was asked for). */
  thought?: boolean;
  /** Opaque, base64; Gemini 3 requires it back on replayed function calls. */
  thoughtSignature?: string;
}

export interface GeminiContent {
  role?: GeminiRole;
  parts: GeminiPart[];
}

export interface GeminiFunctionDeclaration {
  name: string;
  /** REQUIRED by the proto. */
  description: string;
  /** Full JSON Schema (mutually exclusive with the OpenAPI-subset `parameters`, which we never send). */
  parametersJsonSchema?: unknown;
}

export interface GeminiTool {
  functionDeclarations: GeminiFunctionDeclaration[];
}

export type GeminiFunctionCallingMode = 'AUTO' | 'ANY' | 'NONE' | 'VALIDATED';

export interface GeminiToolConfig {
  functionCallingConfig: {
    mode: GeminiFunctionCallingMode;
    allowedFunctionNames?: string[];
  };
}

export interface GeminiThinkingConfig {
  includeThoughts?: boolean;
  /** Tokens; 0 disables thinking (where the model allows it), -1 lets the model decide. */
  thinkingBudget?: number;
}

export interface GeminiGenerationConfig {
  stopSequences?: string[];
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  candidateCount?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  responseMimeType?: string;
  /** Full JSON Schema for structured output (the OpenAPI-subset `responseSchema` is never sent). */
  responseJsonSchema?: unknown;
  thinkingConfig?: GeminiThinkingConfig;
}

export interface GenerateContentRequest {
  contents: GeminiContent[];
  systemInstruction?: GeminiContent;
  tools?: GeminiTool[];
  toolConfig?: GeminiToolConfig;
  generationConfig?: GeminiGenerationConfig;
}

/** `Candidate.FinishReason` (proto == js-genai enum). */
export const GEMINI_FINISH_REASONS = [
  'FINISH_REASON_UNSPECIFIED',
  'STOP',
  'MAX_TOKENS',
  'SAFETY',
  'RECITATION',
  'LANGUAGE',
  'OTHER',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'MALFORMED_FUNCTION_CALL',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_OTHER',
  'NO_IMAGE',
  'IMAGE_RECITATION',
  'UNEXPECTED_TOOL_CALL',
  'TOO_MANY_TOOL_CALLS',
] as const;
export type GeminiFinishReason = (typeof GEMINI_FINISH_REASONS)[number];

export interface GeminiCandidate {
  index?: number;
  content?: { role?: string; parts?: GeminiPart[] };
  /** A string outside GEMINI_FINISH_REASONS is possible when Google adds one. */
  finishReason?: string;
  finishMessage?: string;
}

export interface GeminiUsageMetadata {
  promptTokenCount?: number;
  cachedContentTokenCount?: number;
  candidatesTokenCount?: number;
  toolUsePromptTokenCount?: number;
  thoughtsTokenCount?: number;
  totalTokenCount?: number;
}

export interface GeminiPromptFeedback {
  blockReason?: string;
}

export interface GenerateContentResponse {
  candidates?: GeminiCandidate[];
  promptFeedback?: GeminiPromptFeedback;
  usageMetadata?: GeminiUsageMetadata;
  modelVersion?: string;
  responseId?: string;
}

/** `google.rpc.*` error details we read (AIP-193). Others are ignored. */
export type GeminiErrorDetail =
  | { '@type': 'type.googleapis.com/google.rpc.ErrorInfo'; reason?: string; domain?: string; metadata?: Record<string, string> }
  | { '@type': 'type.googleapis.com/google.rpc.RetryInfo'; retryDelay?: string }
  | {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure';
      violations?: { subject?: string; description?: string; quotaMetric?: string; quotaId?: string }[];
    }
  | { '@type': string; [field: string]: unknown };

/** `{"error": google.rpc.Status + status name}` — the Google REST error envelope. */
export interface GeminiErrorEnvelope {
  error: {
    code?: number;
    message?: string;
    /** `google.rpc.Code` name, e.g. `RESOURCE_EXHAUSTED`. */
    status?: string;
    details?: GeminiErrorDetail[];
  };
}
