/**
 * Prints name, size and digest of the built images and records their sizes in
 * bench/results/images.json (DESIGN.md bench format): one `image_mb` row per image, with the base
 * image and each layer's size in `conditions`. Rows other runs wrote (the rehearsal's stage
 * times) are kept. Sizes are podman's uncompressed sizes: what a VM or Cloud Run unpacks.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const IMAGES_RESULTS = join(REPO, 'bench', 'results', 'images.json');
const MB = 1e6;

interface BenchRow {
  system: string;
  metric: string;
  value: number;
  unit: string;
  conditions: Record<string, unknown>;
}
interface BenchFile {
  bench: string;
  machine: string;
  date: string;
  results: BenchRow[];
  ratios: Record<string, number>;
}

/** podman as root on this machine (see scripts/images-lib.sh). */
export function podman(args: string[]): string {
  return execFileSync('podman', ['--runtime', 'runc', '--cgroup-manager=cgroupfs', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface ImageFacts {
  name: string;
  id: string;
  digest: string;
  sizeMb: number;
  layers: Array<{ mb: number; createdBy: string }>;
}

/** Size, digest and layer sizes of a local image. */
export function imageFacts(name: string): ImageFacts {
  const [info] = JSON.parse(podman(['image', 'inspect', name])) as Array<{
    Id: string;
    Digest: string;
    Size: number;
  }>;
  if (!info) throw new Error(`image ${name} not found`);
  const history = JSON.parse(podman(['history', '--format', 'json', name])) as Array<{
    size: number;
    CreatedBy?: string;
    createdBy?: string;
  }>;
  const layers = history
    .filter((h) => h.size > 0)
    .reverse()
    .map((h) => ({
      mb: round(h.size / MB),
      createdBy: (h.CreatedBy ?? h.createdBy ?? '').replace(/\s+/g, ' ').slice(0, 120),
    }));
  return { name, id: info.Id, digest: info.Digest, sizeMb: round(info.Size / MB), layers };
}

const round = (x: number) => Math.round(x * 10) / 10;

function machine(): string {
  return `${cpus()[0]?.model ?? 'unknown cpu'}, ${cpus().length} cores, gpu none`;
}

/** Replaces the rows of `systems` in images.json, keeping everything else. */
export function writeRows(systems: string[], rows: BenchRow[]): void {
  const old: BenchFile = existsSync(IMAGES_RESULTS)
    ? (JSON.parse(readFileSync(IMAGES_RESULTS, 'utf8')) as BenchFile)
    : { bench: 'images', machine: '', date: '', results: [], ratios: {} };
  const file: BenchFile = {
    bench: 'images',
    machine: machine(),
    date: new Date().toISOString(),
    results: [...old.results.filter((r) => !systems.includes(r.system)), ...rows],
    ratios: old.ratios ?? {},
  };
  mkdirSync(dirname(IMAGES_RESULTS), { recursive: true });
  writeFileSync(IMAGES_RESULTS, `${JSON.stringify(file, null, 2)}\n`);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      trainer: { type: 'string' },
      serving: { type: 'string' },
      base: { type: 'string' },
      'build-seconds': { type: 'string', default: '' },
      record: { type: 'string', default: '1' },
    },
  });
  const buildSeconds = Object.fromEntries(
    (values['build-seconds'] ?? '')
      .split(' ')
      .filter(Boolean)
      .map((kv) => kv.split('=') as [string, string]),
  );
  const base = values.base ? imageFacts(values.base) : undefined;
  const rows: BenchRow[] = [];
  const systems: string[] = [];
  for (const system of ['trainer', 'serving'] as const) {
    const name = values[system];
    if (!name) continue;
    let facts: ImageFacts;
    try {
      facts = imageFacts(name);
    } catch {
      continue; // not built in this run nor before
    }
    systems.push(system);
    process.stdout.write(`${facts.name}  ${facts.sizeMb} MB  ${facts.digest}\n`);
    rows.push({
      system,
      metric: 'image_mb',
      value: facts.sizeMb,
      unit: 'MB',
      conditions: {
        image: facts.name,
        digest: facts.digest,
        base: base ? { image: base.name, mb: base.sizeMb, digest: base.digest } : undefined,
        layers: facts.layers,
        ...(buildSeconds[system] ? { build_seconds: Number(buildSeconds[system]) } : {}),
        compressed: false,
      },
    });
  }
  if (values.record === '0') return;
  writeRows(systems, rows);
  process.stderr.write(`[images] wrote ${IMAGES_RESULTS}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
