/**
 * New run, step 2: the model name. A new name creates a model; an existing one (offered in a
 * list) trains its next version, and the page then starts from that model's stored settings.
 */
import { MODEL_NAME_PATTERN } from '../../../../shared/contracts/model-settings.ts';
import { field, h } from '../../dom.ts';

/** What a model name may be, in words, for the field's error. */
const NAME_RULE = 'Use 2–41 characters: a-z, 0-9 and "-", starting with a letter.';

export interface ModelNameField {
  element: HTMLElement;
  value(): string;
  /** Offers the existing models' names. */
  setKnown(modelNames: string[]): void;
  /** Fills the name from a file name when the user has not typed one. */
  suggestFrom(fileName: string): void;
  /** Shows or clears the field's error; true when the name is valid. */
  validate(): boolean;
  /** `fn(modelName)` when the user settles on an existing model's name (once per name). */
  onKnownModel(fn: (modelName: string) => void): void;
}

/** `support tickets.csv` → `support-tickets`; empty when nothing usable is left. */
export function modelNameFrom(fileName: string): string {
  const guess = fileName
    .replace(/\.csv$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+|-+$/g, '')
    .slice(0, 41);
  return MODEL_NAME_PATTERN.test(guess) ? guess : '';
}

export function modelNameField(): ModelNameField {
  const input = h('input', {
    id: 'model-name',
    name: 'modelName',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'support-intents',
    list: 'model-names',
    pattern: MODEL_NAME_PATTERN.source.replace(/^\^|\$$/g, ''),
  });
  const known = h('datalist', { id: 'model-names' });
  const error = h('p', { class: 'field-error', id: 'model-name-error', 'aria-live': 'polite' });
  const element = field(
    'Model name',
    input,
    'Lower-case letters, digits and "-", starting with a letter (2–41 characters). A new name creates a model; an existing one trains its next version.',
  );
  element.append(error, known);
  let lastKnown = '';
  return {
    element,
    value: () => input.value,
    setKnown(modelNames) {
      known.replaceChildren(...modelNames.map((value) => h('option', { value })));
    },
    suggestFrom(fileName) {
      if (!input.value) input.value = modelNameFrom(fileName);
    },
    validate() {
      const ok = MODEL_NAME_PATTERN.test(input.value);
      error.textContent = ok ? '' : NAME_RULE;
      if (ok) input.removeAttribute('aria-invalid');
      else input.setAttribute('aria-invalid', 'true');
      return ok;
    },
    onKnownModel(fn) {
      input.addEventListener('change', () => {
        const name = input.value;
        if (!MODEL_NAME_PATTERN.test(name) || name === lastKnown) return;
        if (!Array.from(known.options).some((o) => o.value === name)) return;
        lastKnown = name;
        fn(name);
      });
    },
  };
}
