import { googleHttpError } from './gcp-errors.ts';

/**
 * The subset of Compute Engine's list `filter` syntax the twin understands: one comparison
 * `field = value` / `field != "value"` (quoted or a bare word) or several in parentheses joined by AND
 * (`(operationType = "compute.instances.preempted") AND (labels.droptune-run = "r-1")`). Field
 * paths are dotted (`labels.key`). Anything else is refused with HTTP 400 as the real API
 * refuses a malformed filter, rather than silently matching everything.
 */
export type ResourceFilter = (resource: Record<string, unknown>) => boolean;

const CLAUSE = /^\s*\(?\s*([A-Za-z][\w.-]*)\s*(=|!=)\s*(?:"([^"]*)"|([\w.-]+))\s*\)?\s*$/;

export function parseFilter(filter: string | undefined): ResourceFilter {
  if (filter === undefined || filter.trim() === '') return () => true;
  const clauses = filter.split(/\s+AND\s+/).map((c) => {
    const m = CLAUSE.exec(c);
    if (!m) {
      throw googleHttpError(
        400,
        `Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`,
        'invalid',
        'INVALID_ARGUMENT',
      );
    }
    return { path: (m[1] as string).split('.'), negate: m[2] === '!=', value: (m[3] ?? m[4]) as string };
  });
  return (resource) =>
    clauses.every(({ path, negate, value }) => {
      let v: unknown = resource;
      for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      return (String(v ?? '') === value) !== negate;
    });
}
