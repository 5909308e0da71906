import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/**
 * Google's API discovery documents, vendored from the PyPI package google-api-python-client
 * (googleapiclient/discovery_cache/documents, see discovery/README.md for versions and
 * revisions). They are the one source of what a `googleapis.*` connector call may send: the
 * local twins check every call against them, so a request the cloud would refuse fails here.
 */

/** A JSON schema node as discovery documents write it. */
export interface DiscoverySchema {
  id?: string;
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'any';
  format?: string;
  enum?: string[];
  properties?: Record<string, DiscoverySchema>;
  additionalProperties?: DiscoverySchema;
  items?: DiscoverySchema;
  required?: boolean;
}

export interface DiscoveryMethod {
  id: string;
  httpMethod: string;
  parameters?: Record<string, DiscoverySchema & { location?: string }>;
  parameterOrder?: string[];
  request?: { $ref: string };
}

interface DiscoveryResource {
  methods?: Record<string, DiscoveryMethod>;
  resources?: Record<string, DiscoveryResource>;
}

export interface DiscoveryDoc extends DiscoveryResource {
  name: string;
  version: string;
  revision: string;
  /** Standard query parameters every method takes (alt, fields, …). */
  parameters: Record<string, DiscoverySchema>;
  schemas: Record<string, DiscoverySchema>;
}

/** The APIs whose documents are vendored: what pipeline.yaml (and the reaper) call. */
export const VENDORED_APIS = ['compute.v1', 'run.v2', 'storage.v1', 'workflowexecutions.v1'] as const;

const DIR = join(import.meta.dirname, 'discovery');
const docs = new Map<string, DiscoveryDoc>();

export function discoveryDoc(apiVersion: string): DiscoveryDoc {
  let doc = docs.get(apiVersion);
  if (!doc) {
    if (!(VENDORED_APIS as readonly string[]).includes(apiVersion)) {
      throw new Error(
        `no discovery document vendored for ${apiVersion} (vendored: ${VENDORED_APIS.join(', ')})`,
      );
    }
    doc = JSON.parse(gunzipSync(readFileSync(join(DIR, `${apiVersion}.json.gz`))).toString('utf8'));
    docs.set(apiVersion, doc as DiscoveryDoc);
  }
  return doc as DiscoveryDoc;
}

/**
 * The method behind a Workflows connector name: `googleapis.<api>.<version>.<resource…>.<method>`,
 * e.g. `googleapis.run.v2.projects.locations.services.create`.
 */
export function findMethod(connector: string): { doc: DiscoveryDoc; method: DiscoveryMethod } {
  const parts = connector.split('.');
  if (parts[0] !== 'googleapis' || parts.length < 5)
    throw new Error(`${connector} is not a googleapis.<api>.<version>.<resource>.<method> name`);
  const doc = discoveryDoc(`${parts[1]}.${parts[2]}`);
  let node: DiscoveryResource = doc;
  for (const r of parts.slice(3, -1)) {
    const next = node.resources?.[r];
    if (!next) throw new Error(`${connector}: ${doc.name} ${doc.version} has no resource ${r}`);
    node = next;
  }
  const method = node.methods?.[parts[parts.length - 1] as string];
  if (!method) throw new Error(`${connector}: no such method in ${doc.name} ${doc.version}`);
  return { doc, method };
}
