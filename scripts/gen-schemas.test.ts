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
