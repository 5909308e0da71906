import { z } from 'zod';

/**
 * The port through which the dataset trigger starts the pipeline: in the cloud a Cloud
 * Workflows execution (`cloud-starter.ts`), locally the local Workflows runtime running the same
 * `workflows/pipeline.yaml` (wired by the local stack), in tests `RecordingWorkflowStarter`.
 */

/** The workflow's argument: exactly these names, end to end (`args.runId` in pipeline.yaml). */
export const PipelineArgs = z.object({
  runId: z.string().min(1),
  modelName: z.string().min(1),
  datasetUri: z.string().min(1),
  /** The model's settings (droptune.json with defaults applied): hyper-parameters, gate, columns. */
  params: z.record(z.string(), z.unknown()),
});
export type PipelineArgs = z.infer<typeof PipelineArgs>;

/**
 * The argument of a promote/rollback execution of the same pipeline.yaml: deploy `version`
 * (Cloud Run service pinned to it), then move `production` (recorded as `kind`).
 */
export const PromoteArgs = z.object({
  action: z.literal('promote'),
  modelName: z.string().min(1),
  version: z.number().int().min(1),
  kind: z.enum(['promote', 'rollback']),
});
export type PromoteArgs = z.infer<typeof PromoteArgs>;

export interface WorkflowStarter {
  /**
   * Starts one execution and returns its id (the cloud: the execution's resource name).
   * Throws an `AppError`: `retryable` for transient failures (API unavailable, quota), not
   * retryable for permanent ones (workflow missing, permission denied).
   */
  start(args: PipelineArgs | PromoteArgs): Promise<{ executionId: string }>;
}
