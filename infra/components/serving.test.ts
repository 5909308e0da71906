/**
 * Prediction services are `predict-<modelName>`: every name the one model-name rule admits must be a
 * valid Cloud Run service id, and every copy of the rule (Python, CLI, manifest) must be that rule.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Manifest } from '../../shared/contracts/manifest.ts';
import { MODEL_NAME_PATTERN } from '../../shared/contracts/model-settings.ts';
import { REPO_ROOT } from '../program.ts';
import { PREDICTION_SERVICE_PREFIX } from './serving.ts';

/**
 * Cloud Run Admin API v2 `services.create` `serviceId`: begins with a letter, cannot end with a
 * hyphen, fewer than 50 characters, lowercase letters, digits and hyphens (RFC 1035 label).
 */
const CLOUD_RUN_SERVICE_ID = /^[a-z][a-z0-9-]{0,47}[a-z0-9]$/;

describe('model names make valid prediction service ids', () => {
  const edge = [
    'ab',
    'a1',
    `a${'b'.repeat(40)}`,
    'support-tickets',
    'ab-',
    'a',
    `a${'b'.repeat(41)}`,
    '1ab',
    'a--b',
    'Ab',
    'a_b',
  ];

  it.each(edge)('%s is admitted only when its prediction service id is valid', (name) => {
    const serviceId = `${PREDICTION_SERVICE_PREFIX}${name}`;
    if (MODEL_NAME_PATTERN.test(name)) expect(serviceId).toMatch(CLOUD_RUN_SERVICE_ID);
  });

  it('refuses a trailing hyphen and admits the longest valid name', () => {
    expect(MODEL_NAME_PATTERN.test('tickets-')).toBe(false);
    expect(MODEL_NAME_PATTERN.test(`a${'b'.repeat(40)}`)).toBe(true);
    expect(`${PREDICTION_SERVICE_PREFIX}a${'b'.repeat(40)}`).toHaveLength(49);
  });
});

describe('one model-name rule everywhere', () => {
  const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

  it('the trainer checks the same pattern', () => {
    const py = read('training-image/droptune_trainer/artifacts.py').match(
      /MODEL_NAME = re\.compile\(r"([^"]+)"\)/,
    );
    expect(py?.[1]).toBe(MODEL_NAME_PATTERN.source);
  });

  it('the manifest schema refuses what the rule refuses', () => {
    const manifest = (modelName: string) => Manifest.shape.modelName.safeParse(modelName).success;
    expect(manifest('tickets-')).toBe(false);
    expect(manifest('tickets')).toBe(true);
  });

  it('no TypeScript file writes its own copy of the rule', () => {
    const copies = [
      'cli/commands/submit.ts',
      'shared/contracts/manifest.ts',
      'functions/dataset/dataset-event.ts',
    ].filter((p) => /\[a-z\]\[a-z0-9-\]\{/.test(read(p)));
    expect(copies).toEqual([]);
  });
});
