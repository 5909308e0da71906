import type { EnvVar } from './trainer.ts';

/**
 * The pipeline's environment: the `userEnvVars` workflows/pipeline.yaml reads with `sys.get_env`,
 * one row each. This table is the one definition; `pipeline-env.test.ts` checks it against every
 * `sys.get_env` in the YAML (names and literal defaults), against what the Pulumi program passes
 * (infra/stack.defaults.test.ts) and against what the local stack passes. Built-ins
 * (`GOOGLE_CLOUD_*`) are Cloud Workflows' own and not listed.
 *
 * `default` is the text the YAML uses when the variable is unset; `derivedDefault` says how the
 * YAML derives one from another value instead.
 */
export interface PipelineEnvVar extends EnvVar {
  derivedDefault?: string;
}

export const PIPELINE_ENV: readonly PipelineEnvVar[] = [
  {
    name: 'DROPTUNE_API_URL',
    type: 'uri',
    required: true,
    default: null,
    why: 'control API base URL, called with an OIDC token',
  },
  {
    name: 'MODELS_BUCKET',
    type: 'string',
    required: true,
    default: null,
    why: 'models bucket: runs/<runId>/ and models/<modelName>/v<N>/',
  },
  {
    name: 'DROPTUNE_STORAGE',
    type: 'string',
    required: false,
    default: 'gs',
    why: 'storage scheme of the buckets (`gs` in the cloud; the local stack passes `file`), the same variable the functions read',
  },
  {
    name: 'PROJECT_ID',
    type: 'string',
    required: false,
    default: null,
    derivedDefault: 'GOOGLE_CLOUD_PROJECT_ID',
    why: 'project the trainer VMs and prediction services are created in',
  },
  {
    name: 'REGION',
    type: 'string',
    required: false,
    default: null,
    derivedDefault: 'GOOGLE_CLOUD_LOCATION',
    why: 'region of the prediction services and the default zones',
  },
  {
    name: 'ZONES',
    type: 'string',
    required: false,
    default: null,
    derivedDefault: '<REGION>-a,<REGION>-b,<REGION>-c',
    why: 'comma list of zones tried in order for a GPU',
  },
  {
    name: 'MACHINE_TYPE',
    type: 'string',
    required: false,
    default: 'g2-standard-8',
    why: 'one L4 GPU: the cheapest GPU that fine-tunes BERT-size models comfortably',
  },
  {
    name: 'GPU_TYPE',
    type: 'string',
    required: false,
    default: '',
    why: 'attached as guestAccelerators except on accelerator-optimized types, where it only labels the cost',
  },
  {
    name: 'GPU_COUNT',
    type: 'int',
    required: false,
    default: '1',
    why: 'GPUs per VM, for guestAccelerators and the cost estimate',
  },
  {
    name: 'VM_IMAGE',
    type: 'string',
    required: false,
    default:
      'projects/deeplearning-platform-release/global/images/family/common-cu129-ubuntu-2404-nvidia-580',
    why: "boot image with Docker and NVIDIA driver 580, which the trainer image's CUDA 13 wheels need (Deep Learning VM family; Debian 11 families are past end of life)",
  },
  {
    name: 'BOOT_DISK_GB',
    type: 'int',
    required: false,
    default: '100',
    why: 'room for the trainer image, the base model and checkpoints',
  },
  {
    name: 'SUBNETWORK',
    type: 'string',
    required: false,
    default: null,
    derivedDefault: 'regions/<REGION>/subnetworks/default',
    why: 'private subnetwork of the trainer VMs (no external IP)',
  },
  {
    name: 'SECURE_BOOT',
    type: 'bool',
    required: false,
    default: 'false',
    why: 'GPU drivers must be signed for Secure Boot; vTPM and integrity monitoring are always on',
  },
  {
    name: 'TRAINER_IMAGE',
    type: 'string',
    required: false,
    default: '',
    why: 'training container image (required in the cloud)',
  },
  {
    name: 'TRAINER_SA',
    type: 'string',
    required: false,
    default: '',
    why: 'dedicated trainer service account email (required in the cloud)',
  },
  {
    name: 'ALLOW_ON_DEMAND',
    type: 'bool',
    required: false,
    default: 'true',
    why: 'fall back to on-demand when Spot is gone or preempted',
  },
  {
    name: 'MAX_RUN_SECONDS',
    type: 'int',
    required: false,
    default: '14400',
    why: 'scheduling.maxRunDuration: a forgotten VM deletes itself',
  },
  {
    name: 'MAX_TRAIN_SECONDS',
    type: 'int',
    required: false,
    default: null,
    derivedDefault: 'MAX_RUN_SECONDS',
    why: 'overall wait for the trainer across resumes',
  },
  {
    name: 'MAX_PROVISION_ATTEMPTS',
    type: 'int',
    required: false,
    default: '12',
    why: 'inserts tried per provisioning (zones × ladder rungs × Spot/on-demand)',
  },
  {
    name: 'MAX_PREEMPTIONS',
    type: 'int',
    required: false,
    default: '2',
    why: 'resumes after a preemption before giving up',
  },
  {
    name: 'POLL_INITIAL_SECONDS',
    type: 'number',
    required: false,
    default: '15',
    why: 'first sleep while waiting for the trainer (grows ×1.5)',
  },
  {
    name: 'POLL_MAX_SECONDS',
    type: 'number',
    required: false,
    default: '120',
    why: 'longest sleep while waiting for the trainer',
  },
  {
    name: 'GPU_PRICE_PER_HOUR',
    type: 'number',
    required: false,
    default: '0',
    why: 'on-demand price of one GPU, for the cost estimate',
  },
  {
    name: 'SPOT_GPU_PRICE_PER_HOUR',
    type: 'number',
    required: false,
    default: null,
    derivedDefault: 'GPU_PRICE_PER_HOUR',
    why: 'Spot price of one GPU, for the cost estimate',
  },
  {
    name: 'GATE_MIN_ACCURACY',
    type: 'number',
    required: false,
    default: '0.6',
    why: "the stack's minimum held-out accuracy under droptune.json gate.minAccuracy: better than chance on most real label sets",
  },
  {
    name: 'GATE_MIN_MACRO_F1',
    type: 'number',
    required: false,
    default: '0',
    why: "the stack's minimum macro F1 under gate.minMacroF1 (0: off)",
  },
  {
    name: 'GATE_MAX_REGRESSION',
    type: 'number',
    required: false,
    default: '0.01',
    why: 'how much worse than production (macro F1, same rows) a challenger may be, under gate.maxRegression: noise between runs',
  },
  {
    name: 'SERVING_IMAGE',
    type: 'string',
    required: false,
    default: '',
    why: 'prediction service image (required in the cloud)',
  },
  {
    name: 'SERVING_SA',
    type: 'string',
    required: false,
    default: '',
    why: 'dedicated serving service account email',
  },
  {
    name: 'SERVING_MIN_INSTANCES',
    type: 'int',
    required: false,
    default: '0',
    why: 'scale to zero when idle',
  },
  {
    name: 'SERVING_MAX_INSTANCES',
    type: 'int',
    required: false,
    default: '3',
    why: 'caps the cost of a traffic spike',
  },
  {
    name: 'SERVING_CONCURRENCY',
    type: 'int',
    required: false,
    default: '80',
    why: "Cloud Run's default; the batcher turns concurrent requests into batches",
  },
  {
    name: 'SERVING_CPU',
    type: 'string',
    required: false,
    default: '2',
    why: 'two cores run the ONNX session and the HTTP server side by side',
  },
  {
    name: 'SERVING_MEMORY',
    type: 'string',
    required: false,
    default: '2Gi',
    why: 'a BERT-size ONNX model and its tokenizer with headroom',
  },
  {
    name: 'ALLOW_UNAUTHENTICATED',
    type: 'bool',
    required: false,
    default: 'false',
    why: 'grant allUsers run.invoker only when asked',
  },
  {
    name: 'GPU_MEMORY_GB',
    type: 'number',
    required: false,
    default: '24',
    why: 'memory of one GPU of GPU_TYPE, for the one-rung ladder used when GPU_LADDER is unset (L4: 24 GB)',
  },
  {
    name: 'GPU_LADDER',
    type: 'json',
    required: false,
    default: null,
    derivedDefault: 'one rung from MACHINE_TYPE, GPU_TYPE and GPU_MEMORY_GB',
    why: 'JSON list of {gpuType, machineType, gpuCount, memoryGb} tried in order when a zone has no capacity (infra passes droptune:gpuLadder)',
  },
  {
    name: 'MIN_GPU_MEMORY_GB',
    type: 'number',
    required: false,
    default: '12',
    why: 'rungs with less GPU memory than the model needs are skipped (params.gpuMemoryGb overrides per model)',
  },
  {
    name: 'BOOT_DISK_TYPE',
    type: 'string',
    required: false,
    default: 'pd-balanced',
    why: 'a disk type every machine series of the ladder accepts (G2 refuses the API default pd-standard)',
  },
  {
    name: 'REAP_AFTER_SECONDS',
    type: 'int',
    required: false,
    default: null,
    derivedDefault: 'MAX_TRAIN_SECONDS + 3600',
    why: 'a run untouched this long with no live execution is failed by the reaper',
  },
];

/** Whether `value` is a valid text for a variable of `type` (what the YAML's int()/double() accept). */
export function envValueFits(type: EnvVar['type'], value: string): boolean {
  switch (type) {
    case 'int':
      return /^-?\d+$/.test(value);
    case 'number':
      return value.trim() !== '' && Number.isFinite(Number(value));
    case 'bool':
      return ['true', 'false'].includes(value.toLowerCase());
    case 'uri':
      return URL.canParse(value);
    case 'json':
      try {
        JSON.parse(value);
        return true;
      } catch {
        return false;
      }
    default:
      return true;
  }
}

/** The stack's default gate thresholds (under droptune.json `gate`), for forms that show them. */
export const STACK_GATE_DEFAULTS = {
  minAccuracy: Number(PIPELINE_ENV.find((v) => v.name === 'GATE_MIN_ACCURACY')!.default),
  minMacroF1: Number(PIPELINE_ENV.find((v) => v.name === 'GATE_MIN_MACRO_F1')!.default),
  maxRegression: Number(PIPELINE_ENV.find((v) => v.name === 'GATE_MAX_REGRESSION')!.default),
} as const;
