/**
 * Promote and roll back, from the model page: each asks for a confirmation, then moves the
 * `production` alias through the control API. When the API answers with a deploying execution,
 * production moves only once the new version serves: the page says so and waits for it.
 */
import { type AliasChange, api, type ModelSummary } from '../../api.ts';
import { confirmDialog, h, replace, toast } from '../../dom.ts';

/** How long the page waits for a promote/rollback deploy before saying it is still running. */
const DEPLOY_WAIT_MS = 300_000;
/** How often the page asks whether the deploying version serves yet. */
const DEPLOY_POLL_MS = 1000;

export interface AliasMoveContext {
  modelName: string;
  /** The version serving now (null: none). */
  production: number | null;
  /** The page; its buttons are disabled while a move runs. */
  main: HTMLElement;
  /** Where "Deploying v3…" is shown. */
  status: HTMLElement;
  signal: AbortSignal;
  /** Redraws the page once the move is over, whatever its outcome. */
  reload: () => Promise<void>;
}

export interface AliasMoves {
  promote(version: number): Promise<void>;
  rollback(): Promise<void>;
}

export function aliasMoves(ctx: AliasMoveContext): AliasMoves {
  const { modelName, production } = ctx;
  return {
    async promote(version) {
      const ok = await confirmDialog({
        title: `Promote v${version} to production?`,
        body: h(
          'p',
          null,
          production
            ? `Predictions for ${modelName} are served by v${production} now; after this they come from v${version}. You can roll back afterwards.`
            : `v${version} becomes the version that serves predictions for ${modelName}.`,
        ),
        confirm: `Promote v${version}`,
      });
      if (!ok) return;
      await move(
        ctx,
        () => api.promote(modelName, version),
        (v, was) => `${modelName}: production is now v${v}${was ? ` (was v${was})` : ''}.`,
      );
    },
    async rollback() {
      const ok = await confirmDialog({
        title: `Roll back ${modelName}?`,
        body: h(
          'p',
          null,
          `Production moves from v${production} back to the version that was in production before it.`,
        ),
        confirm: 'Roll back',
        danger: true,
      });
      if (!ok) return;
      await move(
        ctx,
        () => api.rollback(modelName),
        (v) => `${modelName}: rolled back to v${v}.`,
      );
    },
  };
}

/** Runs one alias change, waits for its deploy when there is one, reports, and redraws. */
async function move(
  ctx: AliasMoveContext,
  call: () => Promise<AliasChange>,
  done: (version: number, was: number | null) => string,
): Promise<void> {
  for (const b of Array.from(ctx.main.querySelectorAll<HTMLButtonElement>('button'))) b.disabled = true;
  try {
    const change = await call();
    if (change.state === 'deploying' || change.executionId) {
      replace(
        ctx.status,
        h(
          'p',
          { class: 'alert alert-warn', role: 'status' },
          `Deploying v${change.version}… production moves to it as soon as it serves.`,
        ),
      );
      const now = await waitForProduction(ctx, change.version);
      if (now?.productionVersion !== change.version) {
        toast(
          `v${change.version} is not serving yet (execution ${change.executionId ?? '?'}); production is still v${now?.productionVersion ?? '—'}.`,
          'error',
        );
        await ctx.reload();
        return;
      }
    }
    toast(done(change.version, change.previousVersion));
  } catch (err) {
    toast((err as Error).message, 'error');
  }
  await ctx.reload();
}

/** Polls the model until `version` is production, the wait ends, or the user leaves the page. */
async function waitForProduction(ctx: AliasMoveContext, version: number): Promise<ModelSummary | undefined> {
  const end = Date.now() + DEPLOY_WAIT_MS;
  let now: ModelSummary | undefined;
  while (Date.now() < end && !ctx.signal.aborted) {
    await new Promise((r) => setTimeout(r, DEPLOY_POLL_MS));
    now = (await api.listModels(ctx.signal)).find((m) => m.modelName === ctx.modelName);
    if (now?.productionVersion === version) break;
  }
  return now;
}
