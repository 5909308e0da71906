/**
 * New run, step 1: a drop zone (or file chooser) for the CSV, with the chosen file's name and
 * size. It only picks; checking the file is `dataset-check.ts`'s job.
 */
import { h } from '../../dom.ts';
import { formatBytes } from '../../format.ts';

/** The zone and the "Chosen: …" line; `onPick` gets each file the user drops or chooses. */
export function datasetPicker(onPick: (file: File) => void): HTMLElement {
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
  const pick = (file: File | undefined) => {
    if (!file) return;
    chosen.textContent = `Chosen: ${file.name} (${formatBytes(file.size)})`;
    onPick(file);
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
  return h('div', { class: 'field' }, drop, chosen);
}
