import { type Composition, composeCloud } from './compose.ts';

let composition: Promise<Composition> | undefined;

/**
 * The cloud functions' deps, composed once per process from the environment (functions/compose.ts):
 * the database (Cloud SQL, or DATABASE_URL), the `gs://` store, the Workflows starter, ID-token
 * auth and the predict proxy's ID tokens. A failed start (database down, a missing variable) is
 * retried on the next request or event.
 */
export function cloudComposition(): Promise<Composition> {
  composition ??= composeCloud().catch((err) => {
    composition = undefined;
    throw err;
  });
  return composition;
}
