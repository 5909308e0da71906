/**
 * The API token on the page. `droptune up` prints a sign-in link `http://127.0.0.1:<port>/#token=…`
 * (or `/?token=…`); the page moves the token into localStorage and removes it from the address
 * bar, so it is not left in history or screenshots. Without a token (or after a 401) the page
 * shows a form to paste it (locally it is in `$DROPTUNE_HOME/api-token`).
 */
import { h } from './dom.ts';

const KEY = 'droptune.apiToken';

export function getToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  localStorage.setItem(KEY, token.trim());
}

export function clearToken(): void {
  localStorage.removeItem(KEY);
}

/** Takes `token` from the query string or the hash (`#token=…` or `#/runs?token=…`) and cleans the URL. */
export function captureTokenFromUrl(): void {
  const url = new URL(location.href);
  let token = url.searchParams.get('token');
  if (token) url.searchParams.delete('token');
  let hash = url.hash;
  const m = /([#?&])token=([^&]*)&?/.exec(hash);
  if (m) {
    token ??= decodeURIComponent(m[2]!);
    hash = hash
      .replace(/[?&]?token=[^&]*/, '')
      .replace(/^#&/, '#')
      .replace(/\?$/, '');
    if (hash === '#') hash = '';
  }
  if (token) {
    setToken(token);
    url.hash = hash;
    history.replaceState(null, '', url.toString());
  }
}

/** The sign-in form; resolves once a token is saved. */
export function signInView(onSignedIn: () => void): HTMLElement {
  const input = h('input', {
    id: 'api-token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'api-token-help',
  });
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h(
      'p',
      { id: 'api-token-help' },
      'Open the link that ',
      h('code', null, 'droptune up'),
      ' printed, or paste the API token (locally it is in ',
      h('code', null, '$DROPTUNE_HOME/api-token'),
      ').',
    ),
    h('div', { class: 'field' }, h('label', { for: 'api-token' }, 'API token'), input),
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!input.value.trim()) return;
    setToken(input.value);
    onSignedIn();
  });
  queueMicrotask(() => input.focus());
  return form;
}
