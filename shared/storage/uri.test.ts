import { describe, expect, it } from 'vitest';
import { openStore } from './index.ts';
import { parseObjectUri } from './uri.ts';

describe('parseObjectUri', () => {
  it('splits gs:// and file:// URIs into scheme, bucket and name', () => {
    expect(parseObjectUri('gs://my-models/models/m/v3/')).toEqual({
      scheme: 'gs',
      bucket: 'my-models',
      name: 'models/m/v3/',
    });
    expect(parseObjectUri('file://datasets/tickets/train.csv')).toEqual({
      scheme: 'file',
      bucket: 'datasets',
      name: 'tickets/train.csv',
    });
    expect(parseObjectUri('gs://bucket-only')).toEqual({ scheme: 'gs', bucket: 'bucket-only', name: '' });
  });

  it('names the known schemes when the scheme is unknown', () => {
    expect(() => parseObjectUri('s3://b/x')).toThrow(
      'unknown storage scheme "s3://" in "s3://b/x"; known schemes: gs://, file://',
    );
  });

  it('rejects traversal in the URI path', () => {
    expect(() => parseObjectUri('file://datasets/../etc/passwd')).toThrow(/"\.\." path segment/);
  });

  it('rejects text that is not a URI', () => {
    expect(() => parseObjectUri('/just/a/path')).toThrow(/not an object URI/);
  });

  it('opens the adapter that matches the scheme', () => {
    expect(openStore('file://bk1/x', { home: '/tmp/h' }).store.scheme).toBe('file');
    expect(openStore('gs://bk1/x').store.scheme).toBe('gs');
  });
});
