/**
 * The one composition root of the two functions: config and platform adapters in, the deps of
 * the control API (`buildControlApi`) and of the trigger (`buildDatasetTrigger`) out. The cloud
 * functions (control-api.ts, on-dataset-uploaded.ts), the local stack and every end-to-end suite
 * build through here, so what one deployment gets the other cannot silently lack: the workflow
 * starter and the prediction proxy's credentials are required fields of `Platform`, not optional
 * deps someone may forget (the cloud's control API once had neither, and promote only moved the
 * alias).
 */
import { Storage } from '@google-cloud/storage';
import type { ExecutionsClient } from '@google-cloud/workflows';
import { GoogleAuth } from 'google-auth-library';
import { type Config, loadConfig } from '../shared/config.ts';
import { type Database, openDatabase } from '../shared/db/pool.ts';
import { type ObjectStore, storeFor } from '../shared/storage/index.ts';
import { createStore, type TrackingStore } from '../shared/store/index.ts';
import type { ControlApiDeps } from './api/app.ts';
import {
  type Authenticator,
  googleIdTokenAuth,
  idTokenOrLocalTokenAuth,
  localTokenAuth,
} from './api/auth.ts';
import { cloudDeploymentPolicy, type DeploymentPolicy } from './api/deployment-policy.ts';
import type { WebRoutesDeps } from './api/routes-page.ts';
import { GcsSignedUploads, LocalUploads, type UploadTarget } from './api/uploads.ts';
import type { DatasetTriggerDeps } from './dataset/dataset-trigger.ts';
import { CloudWorkflowStarter } from './workflow-starter/cloud-starter.ts';
import type { WorkflowStarter } from './workflow-starter/port.ts';

/** What differs between the cloud and the local stack: who may call, how uploads and starts go. */
export interface Platform {
  auth: Authenticator;
  uploads: UploadTarget;
  /** Starts pipeline runs (the trigger) and promote/rollback deploys (the control API). */
  workflows: WorkflowStarter;
  /** Credentials for the prediction service the page's predict proxy calls (cloud: an ID token). */
  predictHeaders: (url: string) => Promise<Record<string, string>>;
  /** Who records deployments and where they may point (the predict proxy's SSRF guard). */
  deployments: DeploymentPolicy;
  webRoot?: string;
  /** Defaults under every droptune.json (the local stack's offline base model). */
  defaultSettings?: DatasetTriggerDeps['defaultSettings'];
  logger?: boolean;
}

/** What every deployment shares: the tracking store, the object store and the bucket names. */
export interface Base {
  store: TrackingStore;
  objects: ObjectStore;
  datasetsBucket: string;
  modelsBucket: string;
}

export interface Composition {
  controlApi: ControlApiDeps & Pick<WebRoutesDeps, 'predictHeaders'>;
  trigger: DatasetTriggerDeps;
}

export function compose(base: Base, platform: Platform): Composition {
  const shared = {
    store: base.store,
    objects: base.objects,
    datasetsBucket: base.datasetsBucket,
    modelsBucket: base.modelsBucket,
    workflows: platform.workflows,
  };
  return {
    controlApi: {
      ...shared,
      auth: platform.auth,
      uploads: platform.uploads,
      predictHeaders: platform.predictHeaders,
      deployments: platform.deployments,
      ...(platform.webRoot ? { webRoot: platform.webRoot } : {}),
      ...(platform.logger !== undefined ? { logger: platform.logger } : {}),
    },
    trigger: {
      ...shared,
      ...(platform.defaultSettings ? { defaultSettings: platform.defaultSettings } : {}),
    },
  };
}

/** No credentials: the local prediction service listens on loopback only. */
export const noPredictHeaders = async (): Promise<Record<string, string>> => ({});

/**
 * Cloud Run checks an ID token for the service's URL (its origin) from the caller's identity:
 * fetched by google-auth-library (on Google's runtimes, from the metadata server), cached and
 * refreshed by it.
 */
export function idTokenHeaders(auth: GoogleAuth): (url: string) => Promise<Record<string, string>> {
  return async (url): Promise<Record<string, string>> => {
    const client = await auth.getIdTokenClient(new URL(url).origin);
    const headers = await client.getRequestHeaders(url);
    const authorization = headers.get('authorization');
    return authorization ? { authorization } : {};
  };
}

/**
 * Where the cloud adapters send their requests. Empty in production (Google's endpoints and
 * application default credentials); tests point each at a local twin.
 */
export interface CloudEndpoints {
  /** Storage client (signed upload URLs, and `gs://` objects). */
  storage?: Storage;
  /** Workflow Executions client. */
  executions?: ExecutionsClient;
  /** Credentials for ID tokens (the predict proxy). */
  googleAuth?: GoogleAuth;
  /** Signing keys of ID tokens (default Google's). */
  certsUrl?: string;
  /**
   * Twinned Cloud Run: loopback origins where this rehearsal's prediction services answer (the
   * deployment policy accepts them besides `https://predict-<model>-….run.app`). Default: none.
   */
  servingOrigins?: (origin: string) => boolean;
}

function required(config: Config, key: 'DROPTUNE_API_URL' | 'GOOGLE_CLOUD_PROJECT', why: string): string {
  const value = config[key];
  if (!value) throw new Error(`invalid environment: ${key}: required (${why})`);
  return value;
}

/** The cloud's adapters, from the environment the infra sets on the functions. */
export function cloudPlatform(config: Config, endpoints: CloudEndpoints = {}): Platform {
  const audience = required(config, 'DROPTUNE_API_URL', 'the audience of ID tokens');
  const project = required(config, 'GOOGLE_CLOUD_PROJECT', 'the project of the workflow');
  const storage = endpoints.storage ?? new Storage();
  return {
    auth: googleIdTokenAuth({
      audience,
      allowedEmails: config.ALLOWED_INVOKERS.split(','),
      ...(endpoints.certsUrl ? { certsUrl: endpoints.certsUrl } : {}),
    }),
    uploads: new GcsSignedUploads({ storage, datasetsBucket: config.DATASETS_BUCKET }),
    workflows: new CloudWorkflowStarter({
      project,
      location: config.REGION,
      workflow: config.WORKFLOW_NAME,
      ...(endpoints.executions ? { client: endpoints.executions } : {}),
    }),
    predictHeaders: idTokenHeaders(endpoints.googleAuth ?? new GoogleAuth()),
    deployments: {
      ...cloudDeploymentPolicy(config.ALLOWED_INVOKERS.split(',')),
      ...(endpoints.servingOrigins ? { ownsLoopbackUrl: endpoints.servingOrigins } : {}),
    },
    logger: true,
  };
}

export interface LocalPlatformArgs {
  objects: ObjectStore;
  datasetsBucket: string;
  /** The local bearer token of the CLI and the web page (`$DROPTUNE_HOME/api-token`). */
  token: string;
  workflows: WorkflowStarter;
  /**
   * The trainer's identity, as in the cloud: ID tokens from the metadata-server twin
   * (shared/identity/metadata-server.ts), verified against its certs for `audience` (the API URL
   * the trainer is given) and the allow-list.
   */
  idTokens?: { certsUrl: string; audience: () => string; allowedEmails: string[] };
  webRoot?: string;
  defaultSettings?: DatasetTriggerDeps['defaultSettings'];
  /** Whether a loopback origin is one of this stack's serving proxies (deployments may point only there). */
  ownsLoopbackUrl?: (origin: string) => boolean;
}

/** The local stack's adapters: local token + twin ID tokens, direct uploads, the local runtime. */
export function localPlatform(args: LocalPlatformArgs): Platform {
  const local = localTokenAuth(args.token);
  return {
    auth: args.idTokens ? idTokenOrLocalTokenAuth(googleIdTokenAuth(args.idTokens), local) : local,
    uploads: new LocalUploads(args.objects, args.datasetsBucket),
    workflows: args.workflows,
    predictHeaders: noPredictHeaders,
    deployments: args.ownsLoopbackUrl ? { ownsLoopbackUrl: args.ownsLoopbackUrl } : {},
    ...(args.webRoot ? { webRoot: args.webRoot } : {}),
    ...(args.defaultSettings ? { defaultSettings: args.defaultSettings } : {}),
  };
}

/** Opens the database and object store the config names, and composes them with `platform`. */
export async function composeFromConfig(
  config: Config,
  platform: Platform,
  options: { storage?: Storage } = {},
): Promise<Composition & { db: Database }> {
  const db = await openDatabase(config);
  try {
    const objects = storeFor(config.DROPTUNE_STORAGE, {
      home: config.DROPTUNE_HOME,
      ...(options.storage ? { gcs: options.storage } : {}),
    });
    const base = {
      store: createStore(db.pool),
      objects,
      datasetsBucket: config.DATASETS_BUCKET,
      modelsBucket: config.MODELS_BUCKET,
    };
    return { ...compose(base, platform), db };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** The cloud functions' composition: everything from the environment, Google's endpoints. */
export function composeCloud(
  env: NodeJS.ProcessEnv = process.env,
  endpoints: CloudEndpoints = {},
): Promise<Composition & { db: Database }> {
  const config = loadConfig(env);
  // Built first, so a missing variable fails before a database connection is made.
  const platform = cloudPlatform(config, endpoints);
  return composeFromConfig(config, platform, {
    ...(endpoints.storage ? { storage: endpoints.storage } : {}),
  });
}
