import { type Readable, Transform } from 'node:stream';
import type { Storage } from '@google-cloud/storage';
import type { UploadTicket } from '../../shared/contracts/api.ts';
import { AppError } from '../../shared/errors.ts';
import type { ObjectStat, ObjectStore } from '../../shared/storage/index.ts';

/**
 * How the web page gets a CSV into the datasets bucket. In the cloud the browser PUTs straight to
 * GCS with a V4 signed URL (the bytes never pass through the function); locally the API takes
 * the PUT itself and writes the file into the `file://` bucket, where the watcher sees it.
 */
export interface UploadTarget {
  /** A ticket to PUT `<modelName>/<fileName>` into the datasets bucket. `apiBase` is this API's URL. */
  ticket(modelName: string, fileName: string, apiBase: string): Promise<UploadTicket>;
  /** Local only: the bytes of a PUT to the ticket's URL. Undefined where uploads bypass the API. */
  receive?(modelName: string, fileName: string, body: Readable): Promise<ObjectStat>;
}

export interface GcsSignedUploadsArgs {
  storage: Storage;
  datasetsBucket: string;
  /** How long a signed URL stays valid (default 15 min: enough for a slow 2 GB upload to start). */
  expiresInMs?: number;
}

/** Cloud: V4 signed PUT URLs for `gs://<datasets>/<modelName>/<fileName>`. */
export class GcsSignedUploads implements UploadTarget {
  constructor(private readonly args: GcsSignedUploadsArgs) {}

  async ticket(modelName: string, fileName: string): Promise<UploadTicket> {
    const name = `${modelName}/${fileName}`;
    const expires = Date.now() + (this.args.expiresInMs ?? 15 * 60_000);
    const [uploadUrl] = await this.args.storage
      .bucket(this.args.datasetsBucket)
      .file(name)
      .getSignedUrl({ version: 'v4', action: 'write', expires, contentType: 'text/csv' });
    return {
      uploadUrl,
      method: 'PUT',
      headers: { 'content-type': 'text/csv' },
      datasetUri: `gs://${this.args.datasetsBucket}/${name}`,
      expiresAt: new Date(expires).toISOString(),
    };
  }
}

/** Local: the API's own `PUT /v1/uploads/:modelName/:fileName` writes into the `file://` bucket. */
export class LocalUploads implements UploadTarget {
  constructor(
    private readonly objects: ObjectStore,
    private readonly datasetsBucket: string,
    /** Largest upload, in bytes (default 2 GiB, the validator's file limit). */
    private readonly maxBytes = 2 * 1024 ** 3,
  ) {}

  async ticket(modelName: string, fileName: string, apiBase: string): Promise<UploadTicket> {
    return {
      uploadUrl: `${apiBase.replace(/\/$/, '')}/v1/uploads/${modelName}/${encodeURIComponent(fileName)}`,
      method: 'PUT',
      headers: { 'content-type': 'text/csv' },
      datasetUri: `${this.objects.scheme}://${this.datasetsBucket}/${modelName}/${fileName}`,
      expiresAt: null,
    };
  }

  async receive(modelName: string, fileName: string, body: Readable): Promise<ObjectStat> {
    let seen = 0;
    const limit = this.maxBytes;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          seen += chunk.length;
          if (seen > limit)
            done(new AppError('too_large', `the upload is larger than ${limit} bytes (the limit)`));
          else done(null, chunk);
        },
      }),
    );
    body.on('error', (err) => counted.destroy(err));
    // The write is atomic (temp file + rename): the watcher never sees a partial upload.
    return this.objects.write(this.datasetsBucket, `${modelName}/${fileName}`, counted, {
      contentType: 'text/csv',
    });
  }
}
