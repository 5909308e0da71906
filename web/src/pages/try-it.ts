/**
 * Try it: type a text (two for a sentence-pair model), get the production model's prediction as
 * its task shapes it: the label and every class's score, the labels picked for multi-label, the
 * value for regression. The call goes through the control API (same sign-in), which forwards it
 * to the model's prediction service.
 */
import type { PredictInstance } from '../../../shared/contracts/prediction.ts';
import type { Task } from '../../../shared/contracts/task.ts';
import { api, type ModelSummary } from '../api.ts';
import { errorBox, field, h, loading, replace } from '../dom.ts';
import type { PageContext } from '../router.ts';

export async function tryItPage(ctx: PageContext): Promise<void> {
  const { main, signal, query } = ctx;
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Try it')), loading('Loading models'));
  let models: ModelSummary[];
  try {
    models = (await api.listModels(signal)).filter((m) => m.productionVersion !== null);
  } catch (err) {
    replace(main, errorBox('Could not load models', (err as Error).message));
    return;
  }
  if (models.length === 0) {
    replace(
      main,
      h('div', { class: 'page-head' }, h('h1', null, 'Try it')),
      h(
        'div',
        { class: 'empty' },
        h('p', null, 'No model is in production yet.'),
        h('a', { class: 'button primary', href: '#/new' }, 'Train one'),
      ),
    );
    return;
  }
  const select = h(
    'select',
    { id: 'try-model' },
    models.map((m) => h('option', { value: m.modelName }, `${m.modelName} (v${m.productionVersion})`)),
  );
  const wanted = query.get('model');
  if (wanted && models.some((m) => m.modelName === wanted)) select.value = wanted;
  const text = h('textarea', {
    id: 'try-text',
    rows: 4,
    required: true,
    placeholder: 'Type a message to classify…',
  });
  const pairText = h('textarea', {
    id: 'try-text-pair',
    rows: 3,
    placeholder: 'The second text of the pair (text_pair)…',
  });
  const pairField = field(
    'Compared with',
    pairText,
    'This model compares two texts: this is the second (text_pair).',
  );
  pairField.hidden = true;
  let task: Task = 'classification';
  const showTask = async () => {
    const model = select.value;
    const found = await modelTask(model);
    if (select.value !== model) return; // another model was picked meanwhile
    task = found;
    pairField.hidden = task !== 'pair';
    pairText.required = task === 'pair';
    form.dataset.task = task;
  };
  select.addEventListener('change', () => void showTask());
  const button = h('button', { type: 'submit', class: 'primary' }, 'Predict');
  const result = h('div', { id: 'prediction', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'card try-form' },
    field('Model', select),
    field('Text', text, 'Press Ctrl+Enter to predict.'),
    pairField,
    h('div', { class: 'actions' }, button),
  );
  text.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) form.requestSubmit();
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!text.value.trim()) {
      replace(result, h('p', { class: 'field-error', role: 'alert' }, 'Type a text first.'));
      text.focus();
      return;
    }
    if (task === 'pair' && !pairText.value.trim()) {
      replace(result, h('p', { class: 'field-error', role: 'alert' }, 'Type the second text too.'));
      pairText.focus();
      return;
    }
    const instance: PredictInstance =
      task === 'pair' ? { text: text.value, text_pair: pairText.value } : text.value;
    button.disabled = true;
    replace(result, h('p', { class: 'muted', 'aria-busy': 'true' }, 'Asking the model…'));
    const t0 = performance.now();
    try {
      const answer = await api.predict(select.value, [instance]);
      const ms = performance.now() - t0;
      const p = answer.predictions[0]!;
      // Regression answers a value only; multi-label picks several classes.
      const scores = 'scores' in p ? Object.entries(p.scores).sort((a, b) => b[1] - a[1]) : [];
      const picked = 'label' in p ? [p.label] : 'labels' in p ? p.labels : [];
      const predicted = 'value' in p ? String(p.value) : picked.join(', ') || '(none)';
      replace(
        result,
        h(
          'section',
          { class: 'card prediction', 'aria-label': 'Prediction' },
          h(
            'p',
            { class: 'eyebrow' },
            `${answer.model.name} v${answer.model.version} · ${Math.round(ms)} ms`,
          ),
          h(
            'p',
            { class: 'predicted' },
            'value' in p ? 'Value: ' : 'Label: ',
            h('strong', { id: 'predicted-label' }, predicted),
          ),
          scores.length === 0
            ? null
            : h(
                'table',
                { class: 'data bars', id: 'scores' },
                h('caption', null, 'Scores'),
                h(
                  'thead',
                  null,
                  h(
                    'tr',
                    null,
                    h('th', { scope: 'col' }, 'Label'),
                    h('th', { scope: 'col', class: 'num' }, 'Score'),
                    h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Bar')),
                  ),
                ),
                h(
                  'tbody',
                  null,
                  scores.map(([label, score]) =>
                    h(
                      'tr',
                      { class: picked.includes(label) ? 'current' : null },
                      h('th', { scope: 'row' }, label),
                      h('td', { class: 'num' }, `${(score * 100).toFixed(1)}%`),
                      h(
                        'td',
                        { class: 'bar-cell' },
                        h('span', { class: 'bar', style: `width:${(score * 100).toFixed(1)}%` }),
                      ),
                    ),
                  ),
                ),
              ),
        ),
      );
    } catch (err) {
      replace(result, errorBox('The model did not answer', (err as Error).message));
    } finally {
      button.disabled = false;
    }
  });
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'Try it')), form, result);
  text.focus();
  await showTask();
}

/**
 * The task of `modelName`'s production version, from the evaluation its run recorded; a model
 * whose evaluation cannot be read is treated as single-text (the service still refuses a wrong
 * shape with a message that says what it needs).
 */
async function modelTask(modelName: string): Promise<Task> {
  try {
    const versions = await api.versions(modelName);
    const production = versions.find((v) => v.aliases.includes('production'));
    if (!production) return 'classification';
    return (await api.evaluation(production.runId)).task;
  } catch {
    return 'classification';
  }
}
