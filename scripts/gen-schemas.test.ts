import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSchemas, SCHEMAS_DIR } from './gen-schemas.ts';

describe('generated JSON Schemas for the trainer', () => {
  const files = renderSchemas();

  it.each(Object.keys(files))('committed %s matches its zod contract (run npm run gen:schemas)', (name) => {
    const path = join(SCHEMAS_DIR, name);
    expect(existsSync(path), `${path} is missing: run npm run gen:schemas`).toBe(true);
    expect(readFileSync(path, 'utf8'), `${name} is stale: run npm run gen:schemas`).toBe(files[name]);
  });

  it('holds no schema whose contract is gone', () => {
    const committed = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.json'));
    expect(committed.sort()).toEqual(Object.keys(files).sort());
  });

  it('gives the trainer the settings defaults and bounds of droptune.json', () => {
    const settings = JSON.parse(files['model-settings.json']!);
    expect(settings.properties.batchSize).toMatchObject({ type: 'integer', default: 16, minimum: 1 });
    expect(settings.properties.gate.properties).toHaveProperty('minAccuracy');
    expect(settings.additionalProperties).toBe(false);
  });
});

describe('the droptune.json table in docs/control-api.md', () => {
  const doc = readFileSync(new URL('../docs/control-api.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## `droptune.json`'), doc.indexOf('## Environment'));
  const rows = new Map(
    // A cell may hold an escaped pipe (`\|`, the multi-label delimiter's default).
    [...section.matchAll(/^\| `([A-Za-z0-9.]+)` \| ((?:[^|\\]|\\.)+) \|/gm)].map((m) => [
      m[1]!,
      m[2]!.trim().replaceAll('\\|', '|'),
    ]),
  );
  const props = JSON.parse(renderSchemas()['model-settings.json']!).properties as Record<
    string,
    { default?: unknown; properties?: Record<string, unknown> }
  >;

  it('lists every setting and nothing else', () => {
    const keys = Object.entries(props).flatMap(([k, v]) =>
      v.properties ? Object.keys(v.properties).map((g) => `${k}.${g}`) : [k],
    );
    expect([...rows.keys()].sort()).toEqual(keys.sort());
  });

  it('states each default the contract has', () => {
    for (const [key, rule] of Object.entries(props)) {
      if (rule.default === undefined || rule.properties) continue;
      const shown = rows.get(key)!.replaceAll('`', '');
      const value = ['true', 'false'].includes(shown) ? shown === 'true' : Number(shown);
      expect(Number.isNaN(value) ? shown : value, key).toEqual(rule.default);
    }
  });
});
