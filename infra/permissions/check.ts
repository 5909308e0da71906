/**
 * The permission twin: holds what the stack grants (see grants.ts) against what each component does
 * (operations.ts). Three findings, each naming the actor and the operation:
 * - missing: an operation whose permissions the actor does not hold on that resource;
 * - forbidden: an operation the actor must never be able to do, yet can;
 * - excessive: a grant no operation of its holder needs.
 * IAM conditions are evaluated for the CEL forms the stack writes; any other form is refused, so a
 * new condition cannot be waved through unread.
 */
import type { Grant, Scope } from './grants.ts';
import { covers } from './roles.ts';

/** A resource as IAM sees it: CEL attributes, and the policies it inherits grants from. */
export interface Target {
  /** Human label, e.g. `models bucket: models/tickets/v1/model.onnx`. */
  label: string;
  service: string;
  type: string;
  name: string;
  /** Every IAM policy that applies (the project, its bucket, the service itself, …). */
  within: Scope[];
}

export type Verb =
  | 'create'
  | 'overwrite'
  | 'delete'
  | 'read'
  | 'invoke'
  | 'actAs'
  | 'sign'
  | 'write'
  | 'manage';

export interface Operation {
  actor: string;
  does: Verb;
  target: Target;
  permissions: readonly string[];
  why: string;
}

export interface Finding {
  kind: 'missing' | 'forbidden' | 'excessive';
  message: string;
}

const sameScope = (a: Scope, b: Scope) => JSON.stringify(a) === JSON.stringify(b);

/** IAM's `extract`: the text the template's `{var}` stands for, or "" when the template does not occur. */
function extract(name: string, template: string): string {
  const [before, after] = template.split(/\{[^}]+\}/) as [string, string];
  const at = name.indexOf(before);
  if (at < 0) return '';
  const rest = name.slice(at + before.length);
  if (!after) return rest;
  const end = rest.indexOf(after);
  return end < 0 ? '' : rest.slice(0, end);
}

const CLAUSES: [RegExp, (t: Target, m: RegExpMatchArray) => boolean][] = [
  [/^resource\.(name|type|service) == "([^"]*)"$/, (t, m) => t[m[1] as 'name'] === m[2]],
  [/^resource\.name\.startsWith\("([^"]*)"\)$/, (t, m) => t.name.startsWith(m[1]!)],
  [
    /^resource\.name\.extract\("([^"]*)"\)\.startsWith\("([^"]*)"\)$/,
    (t, m) => extract(t.name, m[1]!).startsWith(m[2]!),
  ],
];

/** Evaluates a condition of `&&`-joined clauses of the forms above; throws on anything else. */
export function conditionHolds(expression: string | undefined, target: Target): boolean {
  if (!expression) return true;
  return expression.split('&&').every((raw) => {
    const clause = raw.trim();
    for (const [re, test] of CLAUSES) {
      const m = clause.match(re);
      if (m) return test(target, m);
    }
    throw new Error(`IAM condition clause not understood by the permission check: ${clause}`);
  });
}

/** Grants of `actor` that apply to `target` (scope contains it, condition holds). */
function applicable(
  grants: Grant[],
  actorOf: (member: string) => string,
  actor: string,
  target: Target,
): Grant[] {
  return grants.filter(
    (g) =>
      actorOf(g.member) === actor &&
      target.within.some((s) => sameScope(s, g.scope)) &&
      conditionHolds(g.condition, target),
  );
}

const holds = (gs: Grant[], permission: string) =>
  gs.some((g) => g.permissions.some((e) => covers(e, permission)));

export function checkPermissions(
  grants: Grant[],
  operations: Operation[],
  forbidden: Operation[],
  actorOf: (member: string) => string,
): Finding[] {
  const findings: Finding[] = [];
  for (const op of operations) {
    const gs = applicable(grants, actorOf, op.actor, op.target);
    const lacking = op.permissions.filter((p) => !holds(gs, p));
    if (lacking.length > 0)
      findings.push({
        kind: 'missing',
        message: `${op.actor} cannot ${op.does} ${op.target.label} (${op.why}): lacks ${lacking.join(', ')}`,
      });
  }
  for (const op of forbidden) {
    const gs = applicable(grants, actorOf, op.actor, op.target);
    const able = op.permissions.filter((p) => holds(gs, p));
    if (able.length > 0) {
      const via = gs
        .filter((g) => g.permissions.some((e) => able.some((p) => covers(e, p))))
        .map((g) => g.role);
      findings.push({
        kind: 'forbidden',
        message: `${op.actor} can ${op.does} ${op.target.label}, which it must not (${op.why}): ${able.join(', ')} via ${[...new Set(via)].join(', ')}`,
      });
    }
  }
  for (const g of grants) {
    const actor = actorOf(g.member);
    const used = operations.some(
      (op) =>
        op.actor === actor &&
        op.target.within.some((s) => sameScope(s, g.scope)) &&
        conditionHolds(g.condition, op.target) &&
        op.permissions.some((p) => g.permissions.some((e) => covers(e, p))),
    );
    if (!used)
      findings.push({
        kind: 'excessive',
        message: `${actor} holds ${g.role} on ${JSON.stringify(g.scope)} that no operation of it needs (${g.resource})`,
      });
  }
  return findings;
}
