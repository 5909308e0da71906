/**
 * Paging of the control API's list endpoints (docs/control-api.md "Paging"; the server side is
 * functions/api/paging.ts). Dependency-free: the CLI and the web page walk pages with it too.
 */

/** The largest `pageSize` a list endpoint accepts (bounded: one answer stays a few MB at most). */
export const MAX_PAGE_SIZE = 1000;
/** The page size of a list query that names none. */
export const DEFAULT_PAGE_SIZE = 100;

/** One answer of a list endpoint: its items (under the list's own name) and the next token. */
export type Page = Record<string, unknown> & { nextPageToken?: string | null };

/**
 * Every item of a list, at most `max`, following `nextPageToken` until the last page. `fetchPage`
 * gets the query string to append (`pageSize=…` and, after the first page, `pageToken=…`).
 */
export async function collectPages<T>(
  field: string,
  fetchPage: (query: string) => Promise<Page>,
  { max = Number.POSITIVE_INFINITY, pageSize = MAX_PAGE_SIZE }: { max?: number; pageSize?: number } = {},
): Promise<T[]> {
  const items: T[] = [];
  let token: string | null = null;
  do {
    const size = Math.min(pageSize, max - items.length);
    const query: string = `pageSize=${size}${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`;
    const page = await fetchPage(query);
    items.push(...((page[field] as T[] | undefined) ?? []));
    token = page.nextPageToken ?? null;
  } while (token && items.length < max);
  return items;
}
