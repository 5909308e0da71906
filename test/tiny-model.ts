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
    'from droptune_trainer.fixture import build_tiny_bert, write_synthetic_csv',
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
