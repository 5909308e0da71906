import { createHash } from 'node:crypto';
import { DEFAULT_PAGE_SIZE } from '../../shared/contracts/paging.ts';
import { AppError } from '../../shared/errors.ts';

/**
 * Paging of every list endpoint, the way Google APIs page (AIP-158): the client asks for at most
 * `pageSize` items and passes the previous answer's `nextPageToken` back as `pageToken`; an
 * answer without a `nextPageToken` (null) is the last page. The token is opaque: base64url JSON
 * naming the list, a hash of its filters and the key of the last item listed. Clients must pass
 * it back unchanged; a token of another list, of other filters, or not one at all is a 400 that
 * names `pageToken` (never silently an empty or a wrong page).
 */

interface TokenBody {
  /** Which list gave it out (`runs`, `datasets`, ...). */
  l: string;
  /** Hash of the filters the first page was asked with. */
  f: string;
  /** Key of the last item of the page it follows. */
  a: string | number;
}

/** What a route needs to page one list: its name and the filters besides the paging fields. */
export interface PageSpec {
  list: string;
  filters: Record<string, unknown>;
}

/** The paging fields of a parsed list query (shared/contracts/api.ts `Paging`). */
interface PagingFields {
  pageSize?: number;
  pageToken?: string;
  limit?: number;
}

/**
 * Splits a parsed list query into its filters and its paging: the size asked for (`pageSize`,
 * else its older name `limit`, else the default) and the spec its tokens are bound to.
 */
export function pageQuery<Q extends PagingFields>(
  list: string,
  q: Q,
  /** What the path fixes (the model of a versions list): bound into the token like a filter. */
  scope: Record<string, string> = {},
): { spec: PageSpec; pageSize: number; pageToken?: string; filters: Omit<Q, keyof PagingFields> } {
  const { pageSize, pageToken, limit, ...filters } = q;
  return {
    spec: { list, filters: { ...filters, ...scope } },
    pageSize: pageSize ?? limit ?? DEFAULT_PAGE_SIZE,
    pageToken,
    filters,
  };
}

/** The key after which to continue, or undefined for the first page; a bad token is a 400. */
export function pageAfter<K extends string | number>(
  spec: PageSpec,
  pageToken: string | undefined,
  keyType: K extends string ? 'string' : 'number',
): K | undefined {
  if (pageToken === undefined) return undefined;
  const body = decode(pageToken);
  if (!body || typeof body.a !== keyType) throw badToken('it is not a page token of this API');
  if (body.l !== spec.list) throw badToken(`it was given out by the ${body.l} list, not ${spec.list}`);
  if (body.f !== filterHash(spec.filters))
    throw badToken('it was given out for other filters; ask the first page again with these');
  return body.a as K;
}

/**
 * One page out of `rows`, which the store was asked for `pageSize + 1` of: the extra row, when
 * present, only says that another page follows (so the last page never points at an empty one).
 */
export function toPage<T>(
  spec: PageSpec,
  rows: T[],
  pageSize: number,
  keyOf: (item: T) => string | number,
): { items: T[]; nextPageToken: string | null } {
  if (rows.length <= pageSize) return { items: rows, nextPageToken: null };
  const items = rows.slice(0, pageSize);
  const last = items.at(-1) as T;
  const body: TokenBody = { l: spec.list, f: filterHash(spec.filters), a: keyOf(last) };
  return { items, nextPageToken: Buffer.from(JSON.stringify(body)).toString('base64url') };
}

function decode(token: string): TokenBody | null {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return null;
  try {
    const body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenBody>;
    if (typeof body !== 'object' || body === null) return null;
    if (typeof body.l !== 'string' || typeof body.f !== 'string') return null;
    return body as TokenBody;
  } catch {
    return null;
  }
}

/** Filters in a stable order (undefined left out), hashed short: the token only has to tell them apart. */
function filterHash(filters: Record<string, unknown>): string {
  const canonical = Object.keys(filters)
    .sort()
    .filter((k) => filters[k] !== undefined)
    .map((k) => [k, filters[k]]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 12);
}

function badToken(why: string): AppError {
  return new AppError(
    'invalid_argument',
    `invalid query: pageToken: ${why} (pass the previous answer's nextPageToken unchanged)`,
    { details: { field: 'pageToken' } },
  );
}
