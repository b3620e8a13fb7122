/**
 * The one rule that keeps vector spaces apart: two embedding models are interchangeable only when
 * they are the same model, or a route declares them equivalent. Vectors of different models live
 * in different spaces; serving one in place of the other would silently corrupt a caller's index.
 */

/** `models/text-embedding-004` (Gemini's resource name) and `text-embedding-004` are one model. */
function bareName(model: string): string {
  return model.startsWith('models/') ? model.slice('models/'.length) : model;
}

/** The key of a model's vector space: its declared group (by the group's first name), else its own name. */
export function vectorSpaceOf(model: string, equivalentModels: readonly (readonly string[])[]): string {
  const name = bareName(model);
  for (const group of equivalentModels) {
    if (group.some((member) => bareName(member) === name)) return `group:${bareName(group[0] ?? name)}`;
  }
  return `model:${name}`;
}

export function sameVectorSpace(a: string, b: string, equivalentModels: readonly (readonly string[])[]): boolean {
  return vectorSpaceOf(a, equivalentModels) === vectorSpaceOf(b, equivalentModels);
}

/** Problems in a route's `equivalent_models` declaration: a model in two groups, or twice in one. */
export function equivalenceProblems(equivalentModels: readonly (readonly string[])[]): { group: number; member: number; message: string }[] {
  const problems: { group: number; member: number; message: string }[] = [];
  const seen = new Map<string, number>();
  equivalentModels.forEach((group, g) => {
    const inGroup = new Set<string>();
    group.forEach((member, m) => {
      const name = bareName(member);
      if (inGroup.has(name)) problems.push({ group: g, member: m, message: `'${member}' appears twice in this group` });
      else if (seen.has(name)) {
        problems.push({ group: g, member: m, message: `'${member}' is already in group ${seen.get(name)}; put every name of one model in one group` });
      }
      inGroup.add(name);
      if (!seen.has(name)) seen.set(name, g);
    });
  });
  return problems;
}
