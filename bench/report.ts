/**
 * Shared by every benchmark: the machine description and the results file in the format of
 * DESIGN.md "Benchmarks", plus a readable table on stdout.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchResult {
  system: string;
  metric: string;
  value: number;
  unit: string;
  conditions?: Record<string, unknown>;
}

export function machineDescription(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown cpu';
  let gpu = 'none';
  try {
    gpu =
      execSync('nvidia-smi --query-gpu=name --format=csv,noheader', { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
        .split('\n')
        .join(', ') || 'none';
  } catch {
    // no NVIDIA driver: no GPU
  }
  return `${cpu}, ${cpus().length} cores, gpu ${gpu}`;
}

/** Writes `bench/results/<name>.json` and returns its path. */
export function writeResults(name: string, results: BenchResult[], ratios: Record<string, number>): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const file = join(here, 'results', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const doc = { bench: name, machine: machineDescription(), date: new Date().toISOString(), results, ratios };
  writeFileSync(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/** Prints rows as an aligned table. */
export function printTable(headers: string[], rows: Array<Array<string | number>>): void {
  const cells = [headers, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => String(r[i] ?? '').length)));
  for (const [n, r] of cells.entries()) {
    console.log(r.map((c, i) => String(c).padEnd(widths[i]!)).join('  '));
    if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 1 ? n.toFixed(2) : n.toPrecision(3);
}
