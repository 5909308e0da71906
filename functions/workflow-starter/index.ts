export {
  CloudWorkflowStarter,
  type CloudWorkflowStarterArgs,
  translateWorkflowsError,
} from './cloud-starter.ts';
export { PipelineArgs, PromoteArgs, type WorkflowStarter } from './port.ts';
export { RecordingWorkflowStarter } from './recording-starter.ts';
