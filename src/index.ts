/**
 * Understudy's public entry point. The gateway is started from a validated config; the
 * simulator is exported for tests of code that sits in front of or behind the gateway.
 * (The in-process library API arrives later; until then this is the whole public surface.)
 */
export { startGateway, type Gateway, type GatewayOptions } from './server/gateway.js';
export { loadConfigFile, parseConfig } from './config/load.js';
export { ConfigError, type ConfigProblem } from './config/config-error.js';
export type { Config } from './config/types.js';
export { decide, type DecideInput } from './engine/decide.js';
export type { Decision } from './engine/decision.js';
export type { AttemptRecord, RequestRecord } from './engine/attempt.js';
export { FAILURE_KINDS, type FailureKind } from './canonical/failure.js';
export type { ChatRequest, ChatResponse, ChatChunk } from './canonical/chat.js';
export { createSimulator, scenarioSchema, type Scenario, type Simulator, type SimulatorCall, type SimulatorOptions } from './simulator/index.js';
