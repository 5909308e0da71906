import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('fills documented defaults for the local stack', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      DROPTUNE_HOME: '.droptune',
      DATASETS_BUCKET: 'datasets',
      MODELS_BUCKET: 'models',
      PORT: 8080,
    });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('names each bad variable and what was expected', () => {
    expect(() => loadConfig({ PORT: 'abc', DATABASE_URL: 'nope', DROPTUNE_STORAGE: 's3' })).toThrow(
      /PORT: .*\(got "abc"\).*DATABASE_URL: .*\(got "nope"\)|DATABASE_URL: .*PORT: /s,
    );
    expect(() => loadConfig({ DROPTUNE_STORAGE: 's3' })).toThrow(
      /DROPTUNE_STORAGE: .*"file".*"gs".*\(got "s3"\)/,
    );
    expect(() => loadConfig({ INSTANCE_CONNECTION_NAME: 'bad' })).toThrow(
      /INSTANCE_CONNECTION_NAME: expected project:region:instance/,
    );
  });

  it('treats empty strings as unset', () => {
    expect(loadConfig({ DATABASE_URL: '' }).DATABASE_URL).toBeUndefined();
  });
});
