/**
 * Bounds on what user input can make the system say. Error messages and details echo names and
 * values from uploaded files and requests; unbounded, a 1 MiB CSV header of commas became a
 * 4 MiB run error, a 9 MiB report and a `GET /v1/runs` of hundreds of MB. Every message stored
 * on a run, written to a report or sent in an error body passes through here.
 */

/** Longest message (characters): a paragraph a person reads, with room for a located excerpt. */
export const MAX_MESSAGE_CHARS = 2000;
/** Most names listed (columns, labels, fields) before "and N more". */
export const MAX_LIST_ITEMS = 20;
/** Longest string value inside error details. */
const MAX_DETAIL_CHARS = 200;
/** Most keys of one details object. */
const MAX_DETAIL_KEYS = 50;

/** `text` cut to `max` characters, saying how much was cut. */
export function capText(text: string, max = MAX_MESSAGE_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** At most `most` names, each JSON-quoted and cut, then "and N more": `"a", "b" and 98 more`. */
export function capList(names: readonly string[], most = MAX_LIST_ITEMS): string {
  const shown = names.slice(0, most).map((n) => JSON.stringify(capText(n, 60)));
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

/** A copy of error details with every string, array and object bounded (depth 4). */
export function capDetails<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return capText(value, MAX_DETAIL_CHARS) as T;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= 4) return '…' as T;
  if (Array.isArray(value)) {
    const kept = value.slice(0, MAX_LIST_ITEMS).map((v) => capDetails(v, depth + 1));
    if (value.length > MAX_LIST_ITEMS) kept.push(`… and ${value.length - MAX_LIST_ITEMS} more`);
    return kept as T;
  }
  const entries = Object.entries(value);
  const kept = entries.slice(0, MAX_DETAIL_KEYS).map(([k, v]) => [capText(k, 60), capDetails(v, depth + 1)]);
  if (entries.length > MAX_DETAIL_KEYS) kept.push(['…', `${entries.length - MAX_DETAIL_KEYS} more keys`]);
  return Object.fromEntries(kept) as T;
}
