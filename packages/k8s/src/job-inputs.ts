/**
 * What a job is given: its config as a ConfigMap and the worker token as a
 * Secret. Both are read by the pods at start.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ConfigMap, Secret } from 'kubernetes-models/v1';
import { ns } from './coordinator-manifests.js';
import { commonLabels, type JobNames } from './job-names.js';
import { CONFIG_FILE, TOKEN_KEY } from './pod-layout.js';

export function jobConfigMap(names: JobNames, configYaml: string, namespace?: string): ConfigMap {
  return new ConfigMap({
    metadata: { name: names.config, labels: commonLabels(names), ...ns(namespace) },
    data: { [CONFIG_FILE]: configYaml },
  });
}

export function tokenSecret(names: JobNames, token: string, namespace?: string): Secret {
  return new Secret({
    metadata: { name: names.token, labels: commonLabels(names), ...ns(namespace) },
    type: 'Opaque',
    stringData: { [TOKEN_KEY]: token },
  });
}

/** 32 random bytes, base64url: 256 bits, safe in a header and a YAML scalar. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * A short fingerprint for pod annotations: when the config or token changes,
 * the pod template changes and Kubernetes restarts the pods, which read
 * config and token only at start. 16 hex digits of SHA-256 reveal nothing usable about a 256-bit token.
 */
export function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
