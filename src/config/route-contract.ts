import { compileRouteContract, ContractSpecError, type RouteContractSpec } from '../engine/contract.js';
import type { ResolveProblem } from './resolve.js';
import type { RawRoute } from './schema.js';

export interface ResolvedContract {
  contract: RouteContractSpec | undefined;
  /** The rung a contract violation skips to (`contract_violation_to`, as an index), or undefined. */
  violationRung: number | undefined;
}

/**
 * A route's output contract and `contract_violation_to`, checked as the file loads: the regex and
 * the JSON schema must compile (a bad one is a config error at its line, not a surprise on the
 * first request), and `contract_violation_to` must name a later live rung of this route. Chat
 * routes only.
 */
export function resolveRouteContract(name: string, r: RawRoute, problems: ResolveProblem[]): ResolvedContract {
  const at: (string | number)[] = ['routes', name];
  if ((r.kind ?? 'chat') !== 'chat') {
    if (r.contract) problems.push({ path: [...at, 'contract'], message: 'only chat routes have an output contract' });
    if (r.contract_violation_to !== undefined) problems.push({ path: [...at, 'contract_violation_to'], message: 'only chat routes have an output contract' });
    return { contract: undefined, violationRung: undefined };
  }
  return { contract: r.contract ? contractSpec(r.contract, [...at, 'contract'], problems) : undefined, violationRung: violationRung(name, r, problems) };
}

function contractSpec(raw: NonNullable<RawRoute['contract']>, at: (string | number)[], problems: ResolveProblem[]): RouteContractSpec {
  const spec: RouteContractSpec = {
    finishReasons: raw.finish_reasons,
    minLength: raw.min_length,
    jsonSchema: raw.json_schema,
    regex: raw.regex,
    stream: raw.stream ?? 'pass',
  };
  try {
    compileRouteContract(spec);
  } catch (error) {
    if (!(error instanceof ContractSpecError)) throw error;
    problems.push({ path: [...at, error.key], message: error.message });
  }
  return spec;
}

function violationRung(name: string, r: RawRoute, problems: ResolveProblem[]): number | undefined {
  const to = r.contract_violation_to;
  const path = ['routes', name, 'contract_violation_to'];
  const names = new Map<string, number>();
  r.ladder.forEach((rung, i) => {
    if (!('name' in rung) || rung.name === undefined) return;
    if (names.has(rung.name)) problems.push({ path: ['routes', name, 'ladder', i, 'name'], message: `rung name '${rung.name}' is already used by rung ${names.get(rung.name)}` });
    else names.set(rung.name, i);
  });
  if (to === undefined) return undefined;
  const index = typeof to === 'number' ? to : names.get(to);
  if (index === undefined) {
    const known = [...names.keys()];
    problems.push({ path, message: `no rung is named '${String(to)}' (named rungs: ${known.length ? known.join(', ') : 'none'})` });
    return undefined;
  }
  if (index >= r.ladder.length) {
    problems.push({ path, message: `rung ${index} does not exist (the ladder has ${r.ladder.length} rung${r.ladder.length === 1 ? '' : 's'})` });
    return undefined;
  }
  if (index === 0) {
    problems.push({ path, message: 'rung 0 is where every request starts; name a later, stronger rung' });
    return undefined;
  }
  if ('static' in (r.ladder[index] ?? {})) {
    // Live rungs only: their indexes stay put when a request's fallback_models are inserted before the static rung.
    problems.push({ path, message: `rung ${index} is a static rung; name a live rung (a stronger model)` });
    return undefined;
  }
  return index;
}
