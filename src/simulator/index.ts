export type { SimClock } from './clock.js';
export type { Scenario } from './scenario.js';
export { scenarioSchema } from './scenario.js';
export type { Simulator, SimulatorCall, SimulatorFormat, SimulatorOptions } from './server.js';
export { createSimulator } from './server.js';
