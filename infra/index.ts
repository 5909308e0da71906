/**
 * Pulumi entry point (`main: infra/` in Pulumi.yaml): reads the stack config and builds the stack.
 * Exports become stack outputs (`pulumi stack output`).
 */
import { loadConfig } from './config.ts';
import { createDroptune } from './program.ts';

const out = createDroptune(loadConfig());

export const datasetsBucket = out.datasetsBucket;
export const modelsBucket = out.modelsBucket;
export const controlApiUrl = out.controlApiUrl;
export const workflowName = out.workflowName;
export const startRunCommand = out.startRunCommand;
export const imagesRepository = out.imagesRepository;
export const trainerImage = out.trainerImage;
export const servingImage = out.servingImage;
export const sqlConnectionName = out.sqlConnectionName;
export const serviceAccounts = out.serviceAccounts;
export const workflowEnvNames = out.workflowEnvNames;
