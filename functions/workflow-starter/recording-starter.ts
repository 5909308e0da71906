import { AppError } from '../../shared/errors.ts';
import { PipelineArgs, PromoteArgs, type WorkflowStarter } from './port.ts';

/**
 * THE in-memory fake of the `WorkflowStarter` port (the GCP control plane cannot run here):
 * records every start, hands out `exec-<n>` ids, and can be told to fail the next starts to
 * exercise the trigger's retry path. Shared by every test that needs a workflow starter.
 */
export class RecordingWorkflowStarter implements WorkflowStarter {
  readonly starts: PipelineArgs[] = [];
  /** Promote/rollback executions, kept apart from pipeline runs. */
  readonly promotions: PromoteArgs[] = [];
  private failures: AppError[] = [];
  /** Optional delay per start, to widen race windows in concurrency tests. */
  delayMs = 0;

  /** The next `times` starts throw `error` (default: a transient `unavailable`). */
  failNext(times = 1, error = new AppError('unavailable', 'the Workflows API is unavailable (fake)')): void {
    for (let i = 0; i < times; i++) this.failures.push(error);
  }

  async start(args: PipelineArgs | PromoteArgs): Promise<{ executionId: string }> {
    const promote = 'action' in args;
    if (promote) PromoteArgs.parse(args);
    else PipelineArgs.parse(args);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (promote) {
      this.promotions.push(structuredClone(args));
      return { executionId: `promote-${this.promotions.length}` };
    }
    this.starts.push(structuredClone(args));
    return { executionId: `exec-${this.starts.length}` };
  }

  startsFor(runId: string): PipelineArgs[] {
    return this.starts.filter((s) => s.runId === runId);
  }
}
