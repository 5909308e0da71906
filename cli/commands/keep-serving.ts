/**
 * The local stack is one process holding the embedded database, the control API, the workflows
 * and the bucket watcher: an error thrown outside a request's promise chain (a stream handler, a
 * timer of one request) would end all of them and leave runs half-done. Fastify catches what a
 * handler throws or rejects with; this catches the rest, logs it with the component that raised
 * it, and keeps serving. In the cloud each function is its own process and the platform restarts
 * it, so this is installed by `droptune up` / `demo` only.
 */
export function keepServingOnUncaughtErrors(log: (line: string) => void): () => void {
  let count = 0;
  const report = (kind: string) => (err: unknown) => {
    count += 1;
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(
      JSON.stringify({
        component: 'stack',
        severity: 'ERROR',
        msg: `${kind} (the stack keeps running)`,
        count,
        error: message.slice(0, 4000),
      }),
    );
  };
  const onException = report('uncaught exception');
  const onRejection = report('unhandled rejection');
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
