import { AppError } from '../../shared/errors.ts';
import type { Principal } from './auth.ts';

/**
 * Who may record a deployment and which URLs one may point at. A recorded deployment is where
 * the predict proxy sends requests from inside the VPC, so an arbitrary URL is a server-side
 * request forgery (the proxy would POST anywhere and hand back the answer).
 */
export interface DeploymentPolicy {
  /**
   * Service accounts allowed to record deployments: the workflow's own identity (cloud). Absent:
   * the local stack, whose one token is both the operator's and the workflow's.
   */
  recorders?: readonly string[];
  /**
   * Whether a loopback URL is a prediction service this local stack runs (its serving proxies).
   * Absent (cloud): no loopback URL is accepted.
   */
  ownsLoopbackUrl?: (origin: string) => boolean;
}

/** The account id of the pipeline's workflow (infra/program.ts creates `droptune-workflow@…`). */
const WORKFLOW_ACCOUNT = 'droptune-workflow@';

/** The cloud policy: only the workflow account among the allowed invokers records deployments. */
export function cloudDeploymentPolicy(allowedInvokers: readonly string[]): DeploymentPolicy {
  return { recorders: allowedInvokers.filter((email) => email.startsWith(WORKFLOW_ACCOUNT)) };
}

/** Throws `permission_denied` unless `principal` may record deployments. */
export function assertMayRecordDeployment(principal: Principal | undefined, policy: DeploymentPolicy): void {
  if (policy.recorders === undefined) return;
  if (principal?.kind === 'google' && policy.recorders.includes(principal.subject)) return;
  throw new AppError(
    'permission_denied',
    `${principal?.subject ?? 'this caller'} may not record deployments: only the pipeline's workflow identity does`,
  );
}

/**
 * Throws `invalid_argument` unless `url` is `modelName`'s prediction service: the Cloud Run form
 * `https://predict-<modelName>-<hash>.a.run.app` / `https://predict-<modelName>-<project-number>.<region>.run.app`,
 * or, locally, a loopback origin the stack owns. No path, query, credentials or other port.
 */
export function assertDeploymentUrl(modelName: string, url: string, policy: DeploymentPolicy): string {
  const bad = (why: string): never => {
    throw new AppError(
      'invalid_argument',
      `deployment url ${JSON.stringify(url.slice(0, 200))} ${why}; expected https://predict-${modelName}-….run.app`,
    );
  };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return bad('is not a URL');
  }
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== ''))
    bad('has credentials, a path, a query or a fragment');
  if (u.protocol === 'http:' && u.hostname === '127.0.0.1' && policy.ownsLoopbackUrl?.(u.origin))
    return u.origin;
  if (u.protocol !== 'https:' || u.port !== '') bad('is not https on the default port');
  const service = `predict-${modelName}-`;
  const host = u.hostname;
  const cloudRun = /^[a-z0-9-]+\.a\.run\.app$/.test(host) || /^[a-z0-9-]+\.[a-z0-9-]+\.run\.app$/.test(host);
  if (!cloudRun || !host.startsWith(service)) bad(`is not the Cloud Run service predict-${modelName}`);
  return u.origin;
}
