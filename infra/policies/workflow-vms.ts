/**
 * The trainer VMs are not Pulumi resources: the workflow creates them at run time with
 * `googleapis.compute.v1.instances.insert`. This policy reads the insert bodies out of each
 * deployed workflow's source and holds them to the same rules as VM resources: no external IP,
 * vTPM and integrity monitoring on, an explicit service account. Secure Boot may be an expression
 * (the pipeline makes it configurable because Deep Learning VM GPU drivers are unsigned) but never
 * a literal `false`.
 */
import { parse } from 'yaml';
import type { Policy, PolicyResource, Violation } from './policies.ts';

const INSERT = 'googleapis.compute.v1.instances.insert';

/** Every `instances.insert` step's `args.body` in a workflow source, in document order. */
export function vmInsertBodies(source: string): Record<string, any>[] {
  const found: Record<string, any>[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, any>;
      if (o.call === INSERT) found.push(o.args?.body ?? {});
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(parse(source));
  return found;
}

const isExpression = (v: unknown) => typeof v === 'string' && /^\$\{.*\}$/s.test(v.trim());

export const workflowVmsPrivateAndShielded: Policy = (resources) =>
  resources
    .filter(
      (r) => r.type === 'gcp:workflows/workflow:Workflow' && typeof r.inputs.sourceContents === 'string',
    )
    .flatMap((r: PolicyResource) => {
      const out: Violation[] = [];
      const v = (message: string) =>
        out.push({ policy: 'workflow-vms', resource: `${r.type}::${r.name}`, message });
      vmInsertBodies(r.inputs.sourceContents).forEach((body, i) => {
        const at = `instances.insert #${i + 1}`;
        for (const nic of body.networkInterfaces ?? []) {
          if ((nic.accessConfigs ?? []).length > 0 || (nic.ipv6AccessConfigs ?? []).length > 0)
            v(`${at}: external IP (accessConfigs)`);
        }
        if ((body.networkInterfaces ?? []).length === 0)
          v(`${at}: no networkInterfaces (would use the default network)`);
        const sh = body.shieldedInstanceConfig ?? {};
        if (sh.enableVtpm !== true) v(`${at}: shieldedInstanceConfig.enableVtpm must be true`);
        if (sh.enableIntegrityMonitoring !== true)
          v(`${at}: shieldedInstanceConfig.enableIntegrityMonitoring must be true`);
        if (sh.enableSecureBoot !== true && !isExpression(sh.enableSecureBoot))
          v(`${at}: shieldedInstanceConfig.enableSecureBoot is off`);
        const email = body.serviceAccounts?.[0]?.email;
        if (!email) v(`${at}: serviceAccounts[0].email unset (would be the Compute default SA)`);
        else if (/-compute@developer\.gserviceaccount\.com/.test(email))
          v(`${at}: uses the Compute default SA`);
      });
      return out;
    });
