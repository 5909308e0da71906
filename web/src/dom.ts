/**
 * A tiny element builder: the page is plain DOM (no framework), so every view is a function
 * that returns elements. Text is always set as text, never parsed as HTML, so values from the
 * API (run errors, labels, file names) cannot inject markup.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (typeof value === 'function') el.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
      else if (value === true) el.setAttribute(name, '');
      else el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element | DocumentFragment, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces all children of `el`. */
export function replace(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A labelled form field: `<div class="field"><label for>…</label>control<p class="help">…</p></div>`. */
export function field(label: string, control: HTMLElement, help?: string | Node): HTMLDivElement {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  const helpEl = help ? h('p', { class: 'help', id: `${control.id}-help` }, help) : null;
  if (helpEl) control.setAttribute('aria-describedby', helpEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, helpEl);
}

/** Shows a short message in the live region (screen readers announce it). */
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  const box = document.getElementById('toasts');
  if (!box) return;
  const el = h('div', { class: `toast toast-${kind}` }, message);
  box.append(el);
  setTimeout(() => el.remove(), 5000);
}

/** A polite loading placeholder. */
export function loading(what = 'Loading'): HTMLElement {
  return h('p', { class: 'muted', 'aria-busy': 'true' }, `${what}…`);
}

/** A plain-words error box (role=alert so it is announced). */
export function errorBox(title: string, message: string, extra?: Child): HTMLElement {
  return h(
    'div',
    { class: 'alert alert-error', role: 'alert' },
    h('strong', null, title),
    h('p', null, message),
    extra,
  );
}

/**
 * A modal confirmation (`<dialog>`: focus moves into it, Escape cancels, focus returns after).
 * Resolves true only when the confirm button is pressed.
 */
export function confirmDialog(opts: {
  title: string;
  body: string | Node;
  confirm: string;
  danger?: boolean;
}): Promise<boolean> {
  const opener = document.activeElement as HTMLElement | null;
  const ok = h(
    'button',
    { type: 'button', class: opts.danger ? 'danger' : 'primary', 'data-confirm': '' },
    opts.confirm,
  );
  const cancel = h('button', { type: 'button' }, 'Keep as is');
  const dialog = h(
    'dialog',
    { class: 'confirm', 'aria-labelledby': 'confirm-title' },
    h('h2', { id: 'confirm-title' }, opts.title),
    h('div', { class: 'confirm-body' }, opts.body),
    h('div', { class: 'actions' }, cancel, ok),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let answer = false;
    ok.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      opener?.focus();
      resolve(answer);
    });
    dialog.showModal();
    cancel.focus();
  });
}
