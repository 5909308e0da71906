/**
 * One measurement of bench:validate in its own process, so peak RSS is this system's alone.
 * `node validate-worker.mjs <droptune|naive|csv-parse-stream> <file>` prints one JSON line:
 * {rows, seconds, peakRssMb} (or exits non-zero, e.g. out of memory).
 * Bundled by esbuild before it runs, so no TypeScript loader sits in the measured process.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { validateCsv } from '../functions/dataset/validate-csv.ts';

const [system, file] = process.argv.slice(2) as [string, string];
const started = performance.now();
let rows = 0;
if (system === 'droptune') {
  const result = await validateCsv(createReadStream(file, { highWaterMark: 1024 * 1024 }));
  if (!result.ok) throw new Error(`rejected: ${result.rejection.message}`);
  rows = result.profile.rows;
} else if (system === 'naive') {
  // What one writes first: read the file, parse it, count.
  const records: Record<string, string>[] = parseSync(await readFile(file), {
    bom: true,
    columns: true,
    skip_empty_lines: true,
  });
  const labels = new Map<string, number>();
  for (const r of records) labels.set(r.label!, (labels.get(r.label!) ?? 0) + 1);
  rows = records.length;
} else if (system === 'csv-parse-stream') {
  // csv-parse as a stream: bounded memory, but it builds every record.
  const labels = new Map<string, number>();
  for await (const r of createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(
    parse({ bom: true, columns: true, skip_empty_lines: true }),
  )) {
    labels.set(r.label, (labels.get(r.label) ?? 0) + 1);
    rows++;
  }
} else {
  throw new Error(`unknown system ${system}`);
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ rows, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
