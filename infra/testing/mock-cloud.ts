/**
 * The one fake of the GCP control plane for infra tests: Pulumi's mock runtime with resource
 * states shaped like the provider's (ids, emails, URLs, connection names), recording every
 * registered resource so policy checks can run over the whole stack.
 *
 * Call {@link installMocks} BEFORE importing the program: Pulumi's runtime state is per process
 * (vitest's `forks` pool gives each test file its own process).
 */
import * as pulumi from '@pulumi/pulumi';

/** One registered resource as the policies see it: its type token, logical name and inputs. */
export interface MockedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
}

export interface MockOptions {
  /** Pulumi project name (the `droptune:` config namespace). */
  project?: string;
  stack?: string;
  /** `pulumi preview` (true) or `pulumi up` (false): functions refuse a missing bundle on up. */
  preview: boolean;
  /** Stack config as `pulumi config` stores it, e.g. `{ 'gcp:project': 'p', 'droptune:gpuCount': '2' }`. */
  config: Record<string, string>;
}

/** The project number every mocked lookup answers (Google's buckets and agents are named after it). */
export const PROJECT_NUMBER = '123456789012';

function computedState(
  type: string,
  name: string,
  inputs: Record<string, any>,
): { id: string; state: Record<string, any> } {
  const project = inputs.project ?? 'mock-project';
  const region = inputs.location ?? inputs.region ?? 'us-central1';
  const resourceName = inputs.name ?? name;
  switch (type) {
    case 'gcp:serviceaccount/account:Account': {
      const email = `${inputs.accountId}@${project}.iam.gserviceaccount.com`;
      const full = `projects/${project}/serviceAccounts/${email}`;
      return {
        id: full,
        state: { ...inputs, email, name: full, member: `serviceAccount:${email}`, uniqueId: '1' },
      };
    }
    case 'gcp:cloudfunctionsv2/function:Function': {
      const service = `projects/${project}/locations/${region}/services/${resourceName}`;
      // As the API reports gen2 functions: `url` on cloudfunctions.net, the Cloud Run URI on run.app.
      const url = `https://${region}-${project}.cloudfunctions.net/${resourceName}`;
      const uri = `https://${resourceName}-abc123-uc.a.run.app`;
      return {
        id: `projects/${project}/locations/${region}/functions/${resourceName}`,
        state: { ...inputs, url, serviceConfig: { ...inputs.serviceConfig, service, uri } },
      };
    }
    case 'gcp:sql/databaseInstance:DatabaseInstance':
      return {
        id: resourceName,
        state: {
          ...inputs,
          connectionName: `${project}:${region}:${resourceName}`,
          privateIpAddress: '10.99.0.3',
        },
      };
    case 'gcp:compute/network:Network':
      return { id: `projects/${project}/global/networks/${resourceName}`, state: inputs };
    case 'gcp:compute/subnetwork:Subnetwork':
      return { id: `projects/${project}/regions/${region}/subnetworks/${resourceName}`, state: inputs };
    case 'gcp:compute/instanceTemplate:InstanceTemplate': {
      const n = `${inputs.namePrefix ?? ''}20260101000000`;
      const selfLink = `https://www.googleapis.com/compute/v1/projects/${project}/global/instanceTemplates/${n}`;
      return {
        id: `projects/${project}/global/instanceTemplates/${n}`,
        state: { ...inputs, name: n, selfLink },
      };
    }
    case 'gcp:artifactregistry/repository:Repository': {
      const id = `projects/${project}/locations/${region}/repositories/${inputs.repositoryId}`;
      return { id, state: { ...inputs, name: inputs.repositoryId, location: region, project } };
    }
    case 'gcp:kms/keyRing:KeyRing':
      return { id: `projects/${project}/locations/${region}/keyRings/${resourceName}`, state: inputs };
    case 'gcp:kms/cryptoKey:CryptoKey':
      return { id: `${inputs.keyRing}/cryptoKeys/${resourceName}`, state: inputs };
    case 'gcp:projects/iAMCustomRole:IAMCustomRole': {
      // The provider reports the role's resource name, which is what bindings reference.
      const id = `projects/${project}/roles/${inputs.roleId}`;
      return { id, state: { ...inputs, name: id } };
    }
    case 'gcp:workflows/workflow:Workflow':
      return { id: `projects/${project}/locations/${region}/workflows/${resourceName}`, state: inputs };
    default:
      return { id: `${name}-id`, state: inputs };
  }
}

/**
 * Installs the mocks and stack config; returns the live list of registered custom resources.
 * Component resources are left out: policies judge what would reach the cloud.
 */
export function installMocks(options: MockOptions): MockedResource[] {
  const resources: MockedResource[] = [];
  pulumi.runtime.setAllConfig(options.config);
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const { id, state } = computedState(args.type, args.name, args.inputs);
        if (args.custom !== false) resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id, state };
      },
      call(args) {
        switch (args.token) {
          case 'gcp:storage/getProjectServiceAccount:getProjectServiceAccount':
            return {
              emailAddress: `service-${PROJECT_NUMBER}@gs-project-accounts.iam.gserviceaccount.com`,
              id: 'gcs-agent',
            };
          case 'gcp:organizations/getProject:getProject':
            return {
              number: PROJECT_NUMBER,
              projectId: args.inputs.projectId,
              id: `projects/${args.inputs.projectId}`,
            };
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    },
    options.project ?? 'droptune',
    options.stack ?? 'test',
    options.preview,
  );
  return resources;
}

/** Waits until every resource registration the program started has reached the mock monitor. */
export async function settle(): Promise<void> {
  await pulumi.runtime.disconnect();
}
