/**
 * Test support for end-to-end suites: a tiny randomly initialised BERT (2 layers, 32 wide, the
 * MiniLM tokenizer) and an easy synthetic 3-class CSV, made by the trainer's own fixture code,
 * so a real fine-tune finishes in seconds on a CPU.
 */
import { execFileSync } from 'node:child_process';
import { TRAINER_DIR, trainerPython } from '../shared/trainer-python.ts';

export const PYTHON = trainerPython();

/** Writes `tiny-bert/` and `<csvName>` into `dir`; returns their paths. */
export function makeTinyModelAndData(
  dir: string,
  rowsPerLabel: number,
  csvName = 'train.csv',
): { bert: string; csv: string } {
  const script = [
    'import sys, json',
    'from pathlib import Path',
    'from tests.tiny_model import build_tiny_bert, write_synthetic_csv',
    'w = Path(sys.argv[1])',
    'bert = build_tiny_bert(w / "tiny-bert")',
    'csv = write_synthetic_csv(w / sys.argv[3], rows_per_label=int(sys.argv[2]))',
    'print(json.dumps({"bert": str(bert), "csv": str(csv)}))',
  ].join('\n');
  const out = execFileSync(PYTHON, ['-c', script, dir, String(rowsPerLabel), csvName], {
    cwd: TRAINER_DIR,
    encoding: 'utf8',
  });
  return JSON.parse(out) as { bert: string; csv: string };
}

/** The tasks `writeTaskCsv` can write: three new tasks and classification with long texts. */
export type TaskExample = 'multilabel' | 'pair' | 'regression' | 'chunk';

/**
 * Writes an easy synthetic CSV for `task` with the trainer's own fixture data
 * (training-image/tests/task_fixtures.py `synthetic`): multi-label tickets (`labels` `a|b`),
 * question pairs (`text_pair`, match/mismatch), reviews scored by their "great" words (`score`),
 * and long tickets whose class words are spread over many sentences (`chunk`).
 */
export function writeTaskCsv(path: string, task: TaskExample, rows: number, seed = 0): string {
  const script = [
    'import csv, sys',
    'from tests.task_fixtures import synthetic',
    'path, task, rows, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])',
    'd = synthetic(task, rows=rows, seed=seed)',
    'with open(path, "w", newline="", encoding="utf-8") as f:',
    '    w = csv.writer(f)',
    '    if task == "multilabel":',
    '        w.writerow(["text", "labels"])',
    '        w.writerows([t, "|".join(n for n, on in zip(d.labels, y) if on)] for t, y in zip(d.texts, d.targets))',
    '    elif task == "pair":',
    '        w.writerow(["text", "text_pair", "label"])',
    '        w.writerows([t, p, d.labels[y]] for t, p, y in zip(d.texts, d.pairs, d.targets))',
    '    elif task == "regression":',
    '        w.writerow(["text", "score"])',
    '        w.writerows([t, f"{y:.3f}"] for t, y in zip(d.texts, d.targets))',
    '    else:',
    '        w.writerow(["text", "label"])',
    '        w.writerows([t, d.labels[y]] for t, y in zip(d.texts, d.targets))',
  ].join('\n');
  execFileSync(PYTHON, ['-c', script, path, task, String(rows), String(seed)], { cwd: TRAINER_DIR });
  return path;
}
