/**
 * The model page's "Prediction URL" card: the endpoint a client calls for a deployed model and a
 * `curl` example that works as printed, with a Copy button.
 */
import { h } from '../../dom.ts';

/** How long the Copy button says "Copied" before it reads "Copy" again. */
const COPIED_LABEL_MS = 2000;

/** The prediction endpoint for a deployment URL (a service base URL, or already the full route). */
export function predictUrl(url: string, modelName: string): string {
  if (url.includes(':predict')) return url;
  return `${url.replace(/\/+$/, '')}/v1/models/${modelName}:predict`;
}

/** A `curl` call of the prediction endpoint with one example text: what a user pastes first. */
export function curlExample(url: string, modelName: string): string {
  return [
    `curl -X POST '${predictUrl(url, modelName)}' \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d '{"instances": ["I was charged twice for my subscription"]}'`,
  ].join('\n');
}

/** The card; `url` is null while no version serves (the card says when the URL appears). */
export function predictionUrlCard(url: string | null, modelName: string): HTMLElement {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'url-title' },
    h('h2', { id: 'url-title' }, 'Prediction URL'),
    url
      ? [
          h('p', null, h('code', { id: 'predict-url' }, predictUrl(url, modelName))),
          curlBlock(curlExample(url, modelName)),
          h(
            'p',
            { class: 'muted' },
            'The answer is {"predictions": [{"label", "scores"}], "model": {"name", "version"}}.',
          ),
        ]
      : h('p', { class: 'muted' }, 'Not deployed yet: the URL appears once a version is in production.'),
  );
}

function curlBlock(curl: string): HTMLElement {
  const pre = h('pre', { id: 'curl-example', tabindex: '0', 'aria-label': 'curl example' }, curl);
  const copy = h('button', { type: 'button', id: 'copy-curl' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(curl);
    } catch {
      // Clipboard API unavailable (not a secure context): select the text so Ctrl+C copies it.
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
    }
    copy.textContent = 'Copied';
    setTimeout(() => {
      copy.textContent = 'Copy';
    }, COPIED_LABEL_MS);
  });
  return h('div', { class: 'code-block' }, pre, copy);
}
