import { equivalenceProblems, sameVectorSpace } from '../engine/vector-space.js';
import { hasEmbeddings } from '../providers/registry.js';
import type { ResolveProblem } from './resolve.js';
import { rungTargets } from './rung-targets.js';
import type { RawRoute } from './schema.js';
import type { ProviderConfig } from './types.js';

/**
 * What a route's `kind` allows. An embeddings ladder must stay in one vector space: every target
 * serves the same model name, or a name the route declares equivalent; it has no static rung (no
 * fixed vector can stand in for one) and no provider without an embeddings API. A chat route
 * declares no equivalences (chat answers are not vectors; any model may stand in for another).
 */
export function routeKindProblems(name: string, r: RawRoute, providers: Record<string, ProviderConfig>): ResolveProblem[] {
  const at: (string | number)[] = ['routes', name];
  if ((r.kind ?? 'chat') === 'chat') {
    if (!r.equivalent_models) return [];
    return [{ path: [...at, 'equivalent_models'], message: 'only embeddings routes (kind: embeddings) declare equivalent models' }];
  }
  const groups = r.equivalent_models ?? [];
  const problems: ResolveProblem[] = equivalenceProblems(groups).map((p) => ({
    path: [...at, 'equivalent_models', p.group, p.member],
    message: p.message,
  }));
  let first: { target: string; model: string } | undefined;
  r.ladder.forEach((rung, i) => {
    if ('static' in rung) {
      problems.push({ path: [...at, 'ladder', i, 'static'], message: 'an embeddings route cannot have a static rung: no fixed vector can stand in for a model’s' });
      return;
    }
    if ('cache' in rung) {
      problems.push({ path: [...at, 'ladder', i, 'cache'], message: 'an embeddings route cannot have a cache rung: degrade by failing, not by an old vector' });
      return;
    }
    for (const entry of rungTargets(rung)) {
      const target = entry.id;
      const path = [...at, 'ladder', i, ...entry.path];
      const slash = target.indexOf('/');
      const provider = providers[target.slice(0, slash)];
      const model = target.slice(slash + 1);
      if (provider && !hasEmbeddings(provider.type)) {
        problems.push({ path, message: `provider '${provider.name}' is of type ${provider.type}, which has no embeddings API` });
      }
      if (!first) {
        first = { target, model };
      } else if (!sameVectorSpace(model, first.model, groups)) {
        problems.push({
          path,
          message:
            `'${target}' serves '${model}' but '${first.target}' serves '${first.model}': vectors of different models live in different spaces, ` +
            `so an embeddings ladder only falls back to the same model. If both names are one model (e.g. an Azure deployment name), ` +
            `declare it on the route: equivalent_models: [[${first.model}, ${model}]]`,
        });
      }
    }
  });
  return problems;
}
