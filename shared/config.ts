import { z } from 'zod';

/**
 * The environment, parsed once by one schema. Every variable the TypeScript parts read is here,
 * with its default and why. A bad value fails at start naming the variable and what was
 * expected (see `loadConfig`).
 */
const port = z.coerce.number().int().min(0).max(65_535);
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

export const EnvSchema = z.object({
  /** Local state (embedded database, `file://` buckets, API token). Default: `.droptune` in the working directory, like `.git`. */
  DROPTUNE_HOME: z.string().min(1).default('.droptune'),
  /** Any PostgreSQL URL; wins over Cloud SQL and the embedded database. */
  DATABASE_URL: z.string().url().optional(),
  /** `project:region:instance` of Cloud SQL; connects through the Cloud SQL connector with IAM auth. */
  INSTANCE_CONNECTION_NAME: z
    .string()
    .regex(/^[a-z0-9-:.]+:[a-z0-9-]+:[a-z0-9-]+$/, 'expected project:region:instance')
    .optional(),
  /** IAM database user (the service account email without `.gserviceaccount.com`). */
  DB_USER: z.string().optional(),
  /** Database name on Cloud SQL. */
  DB_NAME: z.string().default('droptune'),
  /** Storage scheme of the two buckets: `file` (local twin, default) or `gs`. */
  DROPTUNE_STORAGE: z.enum(['file', 'gs']).default('file'),
  /** Bucket the trigger watches. Default names are the local stack's; the cloud sets real ones. */
  DATASETS_BUCKET: z.string().min(3).default('datasets'),
  /** Bucket for run outputs, model versions and rejection reports (never watched by the trigger). */
  MODELS_BUCKET: z.string().min(3).default('models'),
  /** Control API base URL (the trainer, the workflow and the CLI talk to it). */
  DROPTUNE_API_URL: z.string().url().optional(),
  /** Bearer token for the local control API; in the cloud ID tokens are used instead. */
  DROPTUNE_API_TOKEN: z.string().optional(),
  /** GCP project, region and workflow (cloud only). */
  GOOGLE_CLOUD_PROJECT: z.string().optional(),
  REGION: z.string().default('us-central1'),
  WORKFLOW_NAME: z.string().default('droptune-pipeline'),
  /** Comma-separated service-account emails allowed to call the control API (cloud only). */
  ALLOWED_INVOKERS: z.string().default(''),
  /** HTTP port for whichever server this process is. 0 picks a free one. */
  PORT: port.default(8080),
  /** Log JSON lines (Cloud Logging) instead of readable text. */
  LOG_JSON: bool.default(false),
});

export type Config = z.infer<typeof EnvSchema>;

/**
 * Parses the environment. Throws one Error listing every bad variable, e.g.
 * `invalid environment: PORT: expected a number between 0 and 65535 (got "abc")`.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const picked = Object.fromEntries(
    Object.keys(EnvSchema.shape)
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const result = EnvSchema.safeParse(picked);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const key = String(issue.path[0]);
    return `${key}: ${issue.message} (got ${JSON.stringify(env[key])})`;
  });
  throw new Error(`invalid environment: ${lines.join('; ')}`);
}

let cached: Config | undefined;
/** The process-wide config, parsed on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
