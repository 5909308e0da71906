/**
 * The stack's typed configuration: every `pulumi config` key, its default and why that default.
 *
 * One zod schema gives both the check and the type (STYLE rule 3). Values arrive from
 * `pulumi config` as strings; numbers, booleans and lists are coerced here so a typo
 * (`gpuCount: two`) fails at preview time naming the key, not deep inside a provider call.
 * Keys live in the `droptune:` namespace, except the project and region, which are the
 * provider's own `gcp:project` / `gcp:region` so one setting drives both.
 */
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { type LadderRung, resolveRung, SERIES_DISKS, seriesOf } from './data/gpus.ts';

const num = z.coerce.number();
const int = z.coerce.number().int();
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
/** A list accepts a JSON array (`pulumi config set --path` or `["a","b"]`) or a comma-separated string. */
function splitList(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  if (s === '') return [];
  if (s.startsWith('[')) return JSON.parse(s);
  return s.split(',').map((x) => x.trim());
}
const list = z.preprocess(splitList, z.array(z.string().min(1)));
/** Ladder items: `gpuType[:machineType]` strings, or JSON objects `{gpuType, machineType?}`. */
function ladderItems(v: unknown): unknown {
  const items = splitList(v);
  if (!Array.isArray(items)) return items;
  return items.map((i) =>
    i && typeof i === 'object' && 'gpuType' in i
      ? [i.gpuType, (i as { machineType?: string }).machineType].filter(Boolean).join(':')
      : i,
  );
}
/** IAM principal as GCP spells it (`user:`, `serviceAccount:`, `group:`, `domain:`, `principal…:`, or `allUsers`). */
const member = z
  .string()
  .regex(/^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group|domain|principal|principalSet):.+)$/, {
    message:
      'must be an IAM member such as user:ana@example.com or serviceAccount:x@p.iam.gserviceaccount.com',
  });
const members = z.preprocess(splitList, z.array(member));

export const configSchema = z
  .object({
    /** gcp:project — required; no sensible default exists. */
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { message: 'must be a GCP project id' }),
    /** gcp:region — us-central1: L4 capacity in three zones (a, b, c) at the lowest list prices. */
    region: z.string().default('us-central1'),
    /** Prefix of every resource name; bucket names also get the project id since they are global. */
    namePrefix: z
      .string()
      .regex(/^[a-z][a-z0-9-]{1,14}$/)
      .default('droptune'),
    /** Zones the workflow tries in order for a GPU VM; default only known for us-central1 (see below). */
    zones: list.optional(),
    /**
     * Capacity ladder: GPU types tried in order when no zone has the one before (each as `gpuType` or
     * `gpuType:machineType`; the machine type defaults from infra/data/gpus.ts). L4 first (24 GB, the
     * cheapest that fits base-sized encoders), then T4 (16 GB, widest availability), then A100 (40 GB).
     */
    gpuLadder: z
      .preprocess(ladderItems, z.array(z.string().min(1)).min(1))
      .default([
        'nvidia-l4:g2-standard-8',
        'nvidia-tesla-t4:n1-standard-8',
        'nvidia-tesla-a100:a2-highgpu-1g',
      ]),
    /** GPUs per VM on N1 rungs (accelerator-optimized machine types carry a fixed count). */
    gpuCount: int.min(1).max(8).default(1),
    /**
     * Trainer boot disk type, set explicitly because the API default (pd-standard) is refused by G2;
     * pd-balanced is the one type every series of the ladder accepts (checked below).
     */
    bootDiskType: z.string().default('pd-balanced'),
    /** Approximate on-demand list price (USD/h) of one L4 in us-central1, for run cost estimates. */
    gpuPricePerHour: num.min(0).default(0.56),
    /** Fall back to on-demand when spot capacity is out everywhere: a run finishing beats a run waiting. */
    allowOnDemand: bool.default(true),
    /** Hard cap (4 h) on a VM's life via maxRunDuration, so a hung trainer cannot burn money overnight. */
    maxRunSeconds: int.min(600).default(14_400),
    /** Quality gate: challenger's metric must be >= gateMin and beat the champion by gateMargin. */
    gateMetric: z.string().default('macro_f1'),
    gateMin: num.default(0.6),
    gateMargin: num.min(0).default(0.01),
    /** Image references; default to `:latest` in this stack's Artifact Registry repo (pin a digest in production). */
    trainerImage: z.string().optional(),
    servingImage: z.string().optional(),
    /** Trainer boot image; unset keeps the pipeline's default (a Deep Learning VM image with Docker + NVIDIA driver). */
    vmImage: z.string().optional(),
    /** Secure Boot on trainer VMs; unset keeps the pipeline's default (off: the DLVM driver is unsigned). */
    secureBoot: bool.optional(),
    /** Dataset ages (days) for storage-class moves: Nearline's 30-day and Coldline's 90-day minimums. */
    datasetsNearlineAfterDays: int.min(1).default(30),
    datasetsColdlineAfterDays: int.min(1).default(90),
    /**
     * `runs/<runId>/` (checkpoints and pre-registration files) is staging: registration copies a finished
     * model to `models/`, so a week is enough to debug a failed run. GCS prefixes allow no wildcard, hence
     * the whole `runs/` prefix rather than only `runs/<runId>/checkpoints/`.
     */
    runsExpireAfterDays: int.min(1).default(7),
    /** Reports are regenerable from the database and the manifest: keep them a quarter. */
    reportsExpireAfterDays: int.min(1).default(90),
    /** Overwritten/deleted objects in the versioned models bucket stay recoverable for 30 days. */
    modelsNoncurrentExpireAfterDays: int.min(1).default(30),
    /** CMEK: an existing Cloud KMS key for both buckets, or `createCmekKey` to make one (default: Google-managed). */
    cmekKeyName: z.string().optional(),
    createCmekKey: bool.default(false),
    /** Subnet for training VMs; /20 leaves room for thousands of VMs and does not collide with 10.0.0.0/16 defaults. */
    subnetCidr: z.string().default('10.20.0.0/20'),
    /** Private services access range size for Cloud SQL; /20 is Google's recommended minimum for growth. */
    privateServicesPrefixLength: int.min(16).max(24).default(20),
    /** Allow SSH to trainer VMs through IAP only (35.235.240.0/20), off by default: nobody needs a shell. */
    allowIapSsh: bool.default(false),
    /** Cloud SQL: one dedicated vCPU (SLA-eligible, unlike shared-core tiers), PostgreSQL 16. */
    dbTier: z.string().default('db-custom-1-3840'),
    dbVersion: z
      .string()
      .regex(/^POSTGRES_\d+$/)
      .default('POSTGRES_16'),
    dbName: z.string().default('droptune'),
    /** Regional HA doubles the instance cost; off by default, on for production stacks. */
    dbHighAvailability: bool.default(false),
    /** On by default: the database is the registry index and experiment history. */
    dbDeletionProtection: bool.default(true),
    /** Automated backups kept 7 days, WAL kept 7 days for point-in-time recovery. */
    dbBackupRetainedCount: int.min(1).default(7),
    dbTransactionLogRetentionDays: int.min(1).max(35).default(7),
    /** Principals (besides the stack's own SAs) allowed to call the control API: operators, CI. */
    apiInvokers: members.default([]),
    /** Principals allowed to call deployed prediction services; allUsers only with servingAllowUnauthenticated. */
    servingInvokers: members.default([]),
    servingAllowUnauthenticated: bool.default(false),
    /** Billing account id; when set, a budget with 50/80/100 % alerts is created. */
    billingAccount: z.string().optional(),
    budgetAmount: num.positive().default(200),
    budgetCurrency: z.string().length(3).default('USD'),
    /** Where `npm run bundle:functions` writes each function (relative to the repository root). */
    functionsBundleDir: z.string().default('dist/functions'),
    /** The one orchestration definition, uploaded byte for byte. */
    pipelineFile: z.string().default('workflows/pipeline.yaml'),
    /** Concurrency caps that bound Cloud SQL connections: each instance holds a small pool. */
    triggerMaxInstances: int.min(1).default(10),
    apiMaxInstances: int.min(1).default(20),
  })
  .transform((c, ctx) => {
    const zones =
      c.zones ?? (c.region === 'us-central1' ? ['a', 'b', 'c'].map((z) => `us-central1-${z}`) : undefined);
    if (!zones || zones.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['zones'],
        message: `set droptune:zones for region ${c.region} (zones with capacity for the GPU ladder)`,
      });
      return z.NEVER;
    }
    const bad = zones.find((zone) => !zone.startsWith(`${c.region}-`));
    if (bad) {
      ctx.addIssue({ code: 'custom', path: ['zones'], message: `zone ${bad} is not in region ${c.region}` });
      return z.NEVER;
    }
    const ladder: LadderRung[] = [];
    for (const [i, item] of c.gpuLadder.entries()) {
      const [gpuType, machineType] = item.split(':');
      const rung = resolveRung(gpuType!, machineType, c.gpuCount);
      if (typeof rung === 'string') {
        ctx.addIssue({ code: 'custom', path: ['gpuLadder', i], message: rung });
        return z.NEVER;
      }
      const disks = SERIES_DISKS[seriesOf(rung.machineType)] ?? [];
      if (!disks.includes(c.bootDiskType)) {
        ctx.addIssue({
          code: 'custom',
          path: ['bootDiskType'],
          message: `${c.bootDiskType} is not accepted by ${rung.machineType} (${seriesOf(rung.machineType)} takes ${disks.join(', ')})`,
        });
        return z.NEVER;
      }
      ladder.push(rung);
    }
    if (c.datasetsColdlineAfterDays <= c.datasetsNearlineAfterDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['datasetsColdlineAfterDays'],
        message: 'must be greater than datasetsNearlineAfterDays',
      });
      return z.NEVER;
    }
    const open = [...c.servingInvokers, ...c.apiInvokers].filter(
      (m) => m === 'allUsers' || m === 'allAuthenticatedUsers',
    );
    if (c.apiInvokers.some((m) => m === 'allUsers' || m === 'allAuthenticatedUsers')) {
      ctx.addIssue({
        code: 'custom',
        path: ['apiInvokers'],
        message: 'the control API is never public; remove allUsers/allAuthenticatedUsers',
      });
      return z.NEVER;
    }
    if (open.length > 0 && !c.servingAllowUnauthenticated) {
      ctx.addIssue({
        code: 'custom',
        path: ['servingInvokers'],
        message: `${open[0]} requires droptune:servingAllowUnauthenticated=true`,
      });
      return z.NEVER;
    }
    return { ...c, zones, ladder };
  });

export type DroptuneConfig = z.output<typeof configSchema>;

/** Keys an older stack may still set, with what replaced them (ignoring them would deploy another shape). */
export const REMOVED_KEYS: Record<string, string> = {
  machineType: 'replaced by droptune:gpuLadder (e.g. ["nvidia-l4:g2-standard-8"])',
  gpuType: 'replaced by droptune:gpuLadder (e.g. ["nvidia-l4:g2-standard-8"])',
};

/** Keys read from the `droptune:` namespace (everything but project and region). */
const KEYS = Object.keys(configSchema.in.shape).filter((k) => k !== 'project' && k !== 'region');

/**
 * Parses raw string config (as `pulumi config` stores it) into the typed config.
 * Throws one error listing every bad key, so an operator fixes them in one pass.
 */
export function parseConfig(raw: Record<string, string | undefined>): DroptuneConfig {
  const input = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const removed = Object.keys(REMOVED_KEYS).filter((k) => k in input);
  if (removed.length > 0) {
    const lines = removed.map((k) => `  ${k}: ${REMOVED_KEYS[k]}`);
    throw new Error(`invalid droptune stack config:\n${lines.join('\n')}`);
  }
  const res = configSchema.safeParse(input);
  if (!res.success) {
    const lines = res.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new Error(`invalid droptune stack config:\n${lines.join('\n')}`);
  }
  return res.data;
}

/** Reads `gcp:project`, `gcp:region` and every `droptune:*` key from the running stack. */
export function loadConfig(): DroptuneConfig {
  const gcp = new pulumi.Config('gcp');
  const cfg = new pulumi.Config('droptune');
  const raw: Record<string, string | undefined> = { project: gcp.get('project'), region: gcp.get('region') };
  for (const k of [...KEYS, ...Object.keys(REMOVED_KEYS)]) raw[k] = cfg.get(k);
  if (!raw.project)
    throw new Error(
      'invalid droptune stack config:\n  project: set gcp:project (pulumi config set gcp:project <id>)',
    );
  return parseConfig(raw);
}
