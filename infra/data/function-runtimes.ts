/**
 * Cloud Run functions' Node.js runtime support schedule, vendored from Google's table
 * ("Cloud Run functions runtimes", https://cloud.google.com/run/docs/runtimes/function-runtimes,
 * read 2026-12-07). After the decommission date a runtime can no longer be used to create or update
 * a function, so deploying one fails outright; the stack is checked against this table.
 */
export interface RuntimeSchedule {
  /** Runtime id as `buildConfig.runtime` takes it. */
  runtime: string;
  /** Start of the deprecation period (creates and updates still work). */
  deprecation: string;
  /** From this date no create and no update. */
  decommission: string;
}

export const NODE_RUNTIMES: readonly RuntimeSchedule[] = [
  { runtime: 'nodejs24', deprecation: '2028-04-30', decommission: '2028-10-31' },
  { runtime: 'nodejs22', deprecation: '2027-04-30', decommission: '2027-10-31' },
  { runtime: 'nodejs20', deprecation: '2026-04-30', decommission: '2026-10-30' },
  { runtime: 'nodejs18', deprecation: '2025-04-30', decommission: '2025-10-30' },
];

/** The runtime the functions deploy on, and the Node major the bundler targets (they must agree). */
export const FUNCTIONS_RUNTIME = 'nodejs22';
export const FUNCTIONS_NODE_MAJOR = Number(FUNCTIONS_RUNTIME.replace('nodejs', ''));

/** Why `runtime` cannot be deployed on `day` (YYYY-MM-DD), or undefined when it can. */
export function runtimeRefusal(runtime: string, day: string): string | undefined {
  const s = NODE_RUNTIMES.find((r) => r.runtime === runtime);
  if (!s)
    return `runtime ${runtime} is not in Cloud Run functions' Node.js schedule (${NODE_RUNTIMES.map((r) => r.runtime).join(', ')})`;
  if (day >= s.decommission)
    return `runtime ${runtime} was decommissioned on ${s.decommission}: no create, no update`;
  return undefined;
}
