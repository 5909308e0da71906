/**
 * Permissions of the predefined roles the stack grants, vendored from Google's role reference
 * (https://cloud.google.com/iam/docs/roles-permissions/<service>, read 2026-12-07), in the reference's
 * own notation: `service.resource.*` stands for every permission under that prefix. For the broad
 * roles (compute.instanceAdmin.v1, run.admin) the groups that matter to droptune's operations are
 * listed; `resourcemanager.projects.get/list` and similar lookup permissions are left out.
 * A role missing here fails the permission check (it cannot judge what it does not know).
 */
export const PREDEFINED_ROLES: Readonly<Record<string, readonly string[]>> = {
  'roles/storage.objectViewer': [
    'storage.managedFolders.get',
    'storage.managedFolders.list',
    'storage.objects.get',
    'storage.objects.list',
  ],
  'roles/storage.objectCreator': [
    'storage.managedFolders.create',
    'storage.multipartUploads.abort',
    'storage.multipartUploads.create',
    'storage.multipartUploads.listParts',
    'storage.objects.create',
  ],
  'roles/storage.objectAdmin': [
    'storage.folders.*',
    'storage.managedFolders.*',
    'storage.multipartUploads.*',
    'storage.objects.*',
  ],
  'roles/run.admin': ['run.*'],
  'roles/run.invoker': ['run.jobs.run', 'run.routes.invoke'],
  'roles/iam.serviceAccountUser': [
    'iam.serviceAccounts.actAs',
    'iam.serviceAccounts.get',
    'iam.serviceAccounts.list',
  ],
  'roles/iam.serviceAccountTokenCreator': [
    'iam.serviceAccounts.get',
    'iam.serviceAccounts.getAccessToken',
    'iam.serviceAccounts.getOpenIdToken',
    'iam.serviceAccounts.implicitDelegation',
    'iam.serviceAccounts.list',
    'iam.serviceAccounts.signBlob',
    'iam.serviceAccounts.signJwt',
  ],
  'roles/workflows.invoker': [
    'workflows.callbacks.send',
    'workflows.executions.cancel',
    'workflows.executions.create',
    'workflows.executions.get',
    'workflows.executions.list',
    'workflows.workflows.get',
    'workflows.workflows.list',
  ],
  'roles/cloudsql.client': ['cloudsql.instances.connect', 'cloudsql.instances.get'],
  'roles/cloudsql.instanceUser': ['cloudsql.instances.get', 'cloudsql.instances.login'],
  'roles/compute.instanceAdmin.v1': [
    'compute.acceleratorTypes.*',
    'compute.disks.*',
    'compute.images.useReadOnly',
    'compute.instances.*',
    'compute.machineTypes.*',
    'compute.subnetworks.use',
    'compute.subnetworks.useExternalIp',
    'compute.zoneOperations.*',
    'compute.zones.*',
  ],
  'roles/eventarc.eventReceiver': ['eventarc.events.receiveAuditLogWritten', 'eventarc.events.receiveEvent'],
  'roles/pubsub.publisher': ['pubsub.topics.publish'],
  'roles/logging.logWriter': ['logging.logEntries.create', 'logging.logEntries.route'],
  'roles/monitoring.metricWriter': [
    'monitoring.metricDescriptors.create',
    'monitoring.metricDescriptors.get',
    'monitoring.metricDescriptors.list',
    'monitoring.monitoredResourceDescriptors.*',
    'monitoring.timeSeries.create',
  ],
  'roles/artifactregistry.reader': [
    'artifactregistry.dockerimages.*',
    'artifactregistry.files.get',
    'artifactregistry.files.list',
    'artifactregistry.repositories.downloadArtifacts',
    'artifactregistry.repositories.get',
    'artifactregistry.repositories.list',
    'artifactregistry.tags.get',
    'artifactregistry.tags.list',
    'artifactregistry.versions.get',
    'artifactregistry.versions.list',
  ],
  'roles/artifactregistry.writer': [
    'artifactregistry.dockerimages.*',
    'artifactregistry.files.get',
    'artifactregistry.files.list',
    'artifactregistry.repositories.downloadArtifacts',
    'artifactregistry.repositories.get',
    'artifactregistry.repositories.list',
    'artifactregistry.repositories.uploadArtifacts',
    'artifactregistry.tags.create',
    'artifactregistry.tags.get',
    'artifactregistry.tags.list',
    'artifactregistry.tags.update',
    'artifactregistry.versions.get',
    'artifactregistry.versions.list',
  ],
  'roles/cloudkms.cryptoKeyEncrypterDecrypter': [
    'cloudkms.cryptoKeyVersions.useToDecrypt',
    'cloudkms.cryptoKeyVersions.useToEncrypt',
  ],
};

/** Whether a role's permission entry (possibly `prefix.*`) covers `permission`. */
export function covers(entry: string, permission: string): boolean {
  return entry.endsWith('.*') ? permission.startsWith(entry.slice(0, -1)) : entry === permission;
}
