/**
 * Starting a run from the page does exactly what a bucket drop does: it writes the settings as
 * `<modelName>/droptune.json` and the CSV next to it, then waits for the run the trigger creates.
 */
import type { ModelSettings } from '../../../../shared/contracts/model-settings.ts';
import { ApiError, api } from '../../api.ts';
import { formatBytes } from '../../format.ts';

/** How long to wait for the trigger to create the run after the upload. */
const RUN_APPEAR_TIMEOUT_MS = 120_000;
/** How often to look for that run. */
const RUN_POLL_MS = 1000;

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

/** Uploads settings and CSV, then waits for the trigger's run; returns its runId. `say` reports each step. */
export async function startRun(
  modelName: string,
  file: File,
  settings: ModelSettings,
  say: (message: string) => void,
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
    await new Promise((r) => setTimeout(r, RUN_POLL_MS));
  }
  throw new ApiError(
    504,
    'deadline_exceeded',
    `The file was uploaded as ${objectName}, but no run appeared within ${RUN_APPEAR_TIMEOUT_MS / 1000} s. Is the dataset trigger running? Check the Runs page in a moment.`,
  );
}
