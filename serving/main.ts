/**
 * The prediction service's entry point: the only module that listens on a port.
 *
 * Start: `MODEL_URI=… PORT=… node --import tsx serving/main.ts` (or the bundled
 * `dist/serving/main.mjs` in the container). It listens at once (so /healthz answers), logs
 * `{"message":"listening","port":N}` (PORT=0 picks a free port), then fetches and verifies the
 * model; /readyz turns 200 and a `model ready` line is logged once it is loaded and warmed up.
 * On SIGTERM/SIGINT it stops accepting, finishes in-flight requests and exits 0.
 */
import type { AddressInfo } from 'node:net';
import { parseObjectUri } from '../shared/storage/uri.ts';
import { readServingConfig } from './config.ts';
import { availableCpus } from './model/cpus.ts';
import { loadModel } from './model/load-model.ts';
import { ModelHost } from './model-host.ts';
import { buildServer } from './server.ts';
import { drainAndClose, newTraffic } from './shutdown.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof readServingConfig>;
  try {
    config = readServingConfig();
  } catch (err) {
    process.stdout.write(
      `${JSON.stringify({ severity: 'CRITICAL', message: `bad configuration: ${(err as Error).message}` })}\n`,
    );
    process.exit(2);
  }
  const host = new ModelHost({
    maxBatch: config.maxBatch,
    maxBatchTokens: config.maxBatchTokens,
    maxWaitMs: config.maxWaitMs,
    maxQueue: config.maxQueue,
  });
  const traffic = newTraffic();
  const app = buildServer({ config, host, traffic });
  const threads = config.threads || availableCpus();

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    app.log.info({ signal }, `${signal}: draining in-flight requests`);
    const force = setTimeout(() => {
      app.log.error(
        { shutdownMs: config.shutdownMs },
        `in-flight requests did not finish within ${config.shutdownMs} ms; exiting`,
      );
      process.exit(1);
    }, config.shutdownMs);
    force.unref();
    await drainAndClose(app, host, traffic);
    await host.dispose();
    app.log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  const port = (app.server.address() as AddressInfo).port;
  app.log.info({ port, modelUri: config.modelUri, variant: config.variant, threads }, 'listening');

  await host.load(async () => {
    const { store, bucket, name } = await openModelStore(config.modelUri);
    return loadModel(
      { store, bucket, prefix: name, uri: config.modelUri },
      {
        variant: config.variant,
        threads,
        inferenceThread: config.inferenceThread,
        warn: (message, fields) => app.log.warn(fields ?? {}, message),
      },
    );
  }, app.log);
}

/**
 * The store for MODEL_URI. `file://` loads only the disk adapter: the registry module also
 * imports @google-cloud/storage, ~0.3 s of cold start a local model never needs.
 */
async function openModelStore(uri: string) {
  const parsed = parseObjectUri(uri);
  if (parsed.scheme === 'file') {
    const { localObjectStore } = await import('../shared/storage/local-buckets.ts');
    return { ...parsed, store: localObjectStore(process.env.DROPTUNE_HOME ?? '.droptune') };
  }
  const { openStore } = await import('../shared/storage/index.ts');
  return openStore(uri);
}

main().catch((err: unknown) => {
  process.stdout.write(
    `${JSON.stringify({ severity: 'CRITICAL', message: `serving failed to start: ${(err as Error)?.message ?? String(err)}` })}\n`,
  );
  process.exit(1);
});
