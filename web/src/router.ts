/**
 * Hash routing: `#/runs`, `#/runs/<runId>`, `#/compare?runs=a,b`, `#/models/<modelName>`, …
 * Each view gets an AbortSignal that fires when the user leaves it, so its polling and
 * in-flight requests stop with it.
 */

export interface PageContext {
  /** The element this visit renders into (a fresh one per visit). */
  main: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Aborted when the route changes. */
  signal: AbortSignal;
}

export type Page = (ctx: PageContext) => void | Promise<void>;

interface Route {
  pattern: RegExp;
  names: string[];
  nav: string;
  title: string;
  page: Page;
}

const routes: Route[] = [];

/** `path` like `/runs/:runId`. `nav` names the menu entry to mark current. */
export function route(path: string, nav: string, title: string, page: Page): void {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${path.replace(/:([a-zA-Z]+)/g, (_, n: string) => {
      names.push(n);
      return '([^/]+)';
    })}$`,
  );
  routes.push({ pattern, names, nav, title, page });
}

export function parseHash(hash: string): { path: string; query: URLSearchParams } {
  const raw = hash.replace(/^#/, '') || '/runs';
  const q = raw.indexOf('?');
  return { path: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

let current: AbortController | undefined;

/** Renders the route for `location.hash` into `main`. */
export async function render(main: HTMLElement): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const { path, query } = parseHash(location.hash);
  const found = routes.find((r) => r.pattern.test(path));
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('[data-nav]'))) {
    if (found && a.dataset.nav === found.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  main.setAttribute('aria-busy', 'true');
  if (!found) {
    document.title = 'Not found — droptune';
    main.append(Object.assign(document.createElement('h1'), { textContent: 'Page not found' }));
    main.removeAttribute('aria-busy');
    return;
  }
  const m = found.pattern.exec(path)!;
  const params = Object.fromEntries(found.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
  document.title = `${found.title} — droptune`;
  // Each visit renders into its own element: a slow request of the page just left can only
  // write into its detached element, never over the new page.
  const view = document.createElement('div');
  view.className = 'view';
  main.replaceChildren(view);
  try {
    await found.page({ main: view, params, query, signal: controller.signal });
  } finally {
    if (current === controller) main.removeAttribute('aria-busy');
  }
}

export function navigate(hash: string): void {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

/** Calls `fn` now and every `ms` until `signal` aborts or `fn` returns false. Errors are passed to `onError`. */
export function poll(
  fn: () => Promise<boolean | undefined>,
  ms: number,
  signal: AbortSignal,
  onError: (err: unknown) => void,
): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    if (signal.aborted) return;
    let again = true;
    try {
      again = (await fn()) !== false;
    } catch (err) {
      if (signal.aborted || (err as Error).name === 'AbortError') return;
      onError(err);
    }
    if (again && !signal.aborted) timer = setTimeout(tick, ms);
  };
  signal.addEventListener('abort', () => clearTimeout(timer));
  void tick();
}
