/**
 * New run: checks the chosen CSV with the trigger's own validator (through the control API,
 * before anything is stored) and shows its profile or the precise reason it would be rejected.
 * A newer check cancels an older one, so the verdict always belongs to the latest file and columns.
 */
import { api, type ValidationAnswer } from '../../api.ts';
import { errorBox, h, replace } from '../../dom.ts';
import { formatBytes } from '../../format.ts';
import { profileView, rejectionView } from '../../profile-view.ts';

/** The columns the validator looks for: the form's, or the schema's defaults when left empty. */
export interface DatasetColumns {
  textColumn: string;
  labelColumn: string;
  /** The task chosen in the form; absent: the validator detects it. */
  task?: string;
}

export function columnsOf(raw: Record<string, unknown>): DatasetColumns {
  return {
    textColumn: String(raw.textColumn || 'text'),
    labelColumn: String(raw.labelColumn || 'label'),
    ...(raw.task ? { task: String(raw.task) } : {}),
  };
}

export interface DatasetCheck {
  /** The live region that shows the check's progress and verdict. */
  element: HTMLElement;
  /** The latest finished check's answer; null while none has finished. */
  verdict(): ValidationAnswer | null;
  /** Checks `file`; resolves once this check is shown (or was overtaken by a newer one). */
  check(file: File, columns: DatasetColumns): Promise<void>;
}

/** `onVerdict` runs after each check that was not overtaken (the estimate depends on it). */
export function datasetCheck(onVerdict: () => void): DatasetCheck {
  const element = h('div', { id: 'validation', 'aria-live': 'polite' });
  let verdict: ValidationAnswer | null = null;
  let running: AbortController | undefined;
  return {
    element,
    verdict: () => verdict,
    async check(file, columns) {
      running?.abort();
      const mine = new AbortController();
      running = mine;
      verdict = null;
      replace(
        element,
        h('p', { class: 'muted', 'aria-busy': 'true' }, `Checking ${file.name} (${formatBytes(file.size)})…`),
      );
      try {
        verdict = await api.validate(file, columns, mine.signal);
        replace(element, verdictView(file, verdict));
      } catch (err) {
        if ((err as Error).name === 'AbortError') return;
        replace(element, errorBox('Could not check the file', (err as Error).message));
      }
      onVerdict();
    },
  };
}

function verdictView(file: File, verdict: ValidationAnswer): HTMLElement {
  return verdict.ok
    ? h(
        'div',
        { class: 'alert alert-ok', 'data-verdict': 'ok' },
        h('strong', null, `${file.name} looks good`),
        profileView(verdict.profile),
      )
    : rejectionView(verdict.rejection);
}
