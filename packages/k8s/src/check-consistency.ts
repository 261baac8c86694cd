/**
 * Mistakes between objects that each object's schema cannot see, and that
 * the API server either rejects late or, worse, accepts: a Deployment or
 * StatefulSet whose selector misses its own pods, a Service or monitor that
 * selects nothing, a named port or volume that does not exist, a reference to
 * a ConfigMap, Secret or claim that is not there, a StatefulSet whose
 * governing Service is missing or not headless (its pods get no DNS names).
 */
import { objectRef, type KubeObject, type ManifestProblem } from './validate-manifests.js';

interface Pod {
  readonly owner: string;
  readonly labels: Record<string, string>;
  readonly spec: Record<string, unknown>;
}

export interface ConsistencyOptions {
  /** Objects expected to exist beside these (e.g. `Secret/dtrain-token`, which the user creates). */
  readonly external?: readonly string[];
}

export function checkConsistency(objects: readonly KubeObject[], options: ConsistencyOptions = {}): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const present = new Set([...objects.map(objectRef), ...(options.external ?? [])]);
  const pods: Pod[] = [];
  for (const object of objects) {
    if (object.kind !== 'Deployment' && object.kind !== 'StatefulSet') continue;
    const spec = record(object['spec']);
    const template = record(spec['template']);
    const labels = strings(record(template['metadata'])['labels']);
    const selector = strings(record(spec['selector'])['matchLabels']);
    if (!matches(selector, labels)) problems.push({ object: objectRef(object), message: 'spec.selector.matchLabels does not match the pod template labels' });
    pods.push({ owner: objectRef(object), labels, spec: record(template['spec']) });
  }
  for (const pod of pods) problems.push(...checkPod(pod, present));

  const services = objects.filter((o) => o.kind === 'Service');
  for (const set of objects.filter((o) => o.kind === 'StatefulSet')) {
    const name = record(set['spec'])['serviceName'];
    if (typeof name !== 'string') continue;
    const service = services.find((s) => s.metadata?.name === name);
    if (service === undefined && !present.has(`Service/${name}`)) problems.push({ object: objectRef(set), message: `spec.serviceName: Service/${name} is not among the objects` });
    else if (service !== undefined && record(service['spec'])['clusterIP'] !== 'None') {
      problems.push({ object: objectRef(set), message: `spec.serviceName: Service/${name} is not headless (clusterIP: None), so its pods get no DNS names` });
    }
  }
  for (const service of services) {
    const spec = record(service['spec']);
    const selected = pods.filter((p) => matches(strings(spec['selector']), p.labels));
    if (selected.length === 0) problems.push({ object: objectRef(service), message: 'spec.selector matches no pod template' });
    for (const port of list(spec['ports']).map(record)) {
      const target = port['targetPort'];
      if (typeof target === 'string' && !selected.every((p) => containerPorts(p).has(target))) {
        problems.push({ object: objectRef(service), message: `targetPort "${target}" is not a named container port of the selected pods` });
      }
    }
  }
  for (const monitor of objects.filter((o) => o.kind === 'ServiceMonitor')) {
    const spec = record(monitor['spec']);
    const selector = strings(record(spec['selector'])['matchLabels']);
    const selected = services.filter((s) => matches(selector, strings(record(s['metadata'])['labels'])));
    if (selected.length === 0) problems.push({ object: objectRef(monitor), message: 'spec.selector matches no Service' });
    for (const endpoint of list(spec['endpoints']).map(record)) {
      const port = endpoint['port'];
      const named = selected.every((s) => list(record(s['spec'])['ports']).some((p) => record(p)['name'] === port));
      if (typeof port === 'string' && !named) problems.push({ object: objectRef(monitor), message: `endpoint port "${port}" is not a port name of the selected Services` });
    }
  }
  for (const monitor of objects.filter((o) => o.kind === 'PodMonitor')) {
    const spec = record(monitor['spec']);
    const selected = pods.filter((p) => matches(strings(record(spec['selector'])['matchLabels']), p.labels));
    if (selected.length === 0) problems.push({ object: objectRef(monitor), message: 'spec.selector matches no pod template' });
    for (const endpoint of list(spec['podMetricsEndpoints']).map(record)) {
      const port = endpoint['port'];
      if (typeof port === 'string' && !selected.every((p) => containerPorts(p).has(port))) {
        problems.push({ object: objectRef(monitor), message: `podMetricsEndpoints port "${port}" is not a named container port of the selected pods` });
      }
    }
  }
  for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
    const target = record(record(hpa['spec'])['scaleTargetRef']);
    const ref = `${String(target['kind'])}/${String(target['name'])}`;
    if (!present.has(ref)) problems.push({ object: objectRef(hpa), message: `scaleTargetRef ${ref} is not among the objects` });
  }
  return problems;
}

function checkPod(pod: Pod, present: ReadonlySet<string>): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const say = (message: string): void => void problems.push({ object: pod.owner, message });
  const volumes = list(pod.spec['volumes']).map(record);
  const volumeNames = new Set(volumes.map((v) => v['name']));
  for (const volume of volumes) {
    const configMap = record(volume['configMap'])['name'];
    const claim = record(volume['persistentVolumeClaim'])['claimName'];
    if (typeof configMap === 'string' && !present.has(`ConfigMap/${configMap}`)) say(`volume ${String(volume['name'])}: ConfigMap/${configMap} is not among the objects`);
    if (typeof claim === 'string' && !present.has(`PersistentVolumeClaim/${claim}`)) say(`volume ${String(volume['name'])}: PersistentVolumeClaim/${claim} is not among the objects`);
  }
  const ports = containerPorts(pod);
  for (const container of list(pod.spec['containers']).map(record)) {
    const name = String(container['name']);
    for (const mount of list(container['volumeMounts']).map(record)) {
      if (!volumeNames.has(mount['name'])) say(`container ${name}: volumeMount ${String(mount['name'])} has no volume`);
    }
    for (const env of list(container['env']).map(record)) {
      const secret = record(record(env['valueFrom'])['secretKeyRef'])['name'];
      if (typeof secret === 'string' && !present.has(`Secret/${secret}`)) say(`container ${name}: env ${String(env['name'])}: Secret/${secret} is not among the objects`);
    }
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const port = record(record(container[probe])['httpGet'])['port'];
      if (typeof port === 'string' && !ports.has(port)) say(`container ${name}: ${probe} port "${port}" is not a named container port`);
    }
  }
  return problems;
}

function containerPorts(pod: Pod): Set<string> {
  const names = new Set<string>();
  for (const container of list(pod.spec['containers'])) {
    for (const port of list(record(container)['ports'])) {
      const name = record(port)['name'];
      if (typeof name === 'string') names.add(name);
    }
  }
  return names;
}

/** True when every selector label is on the object (an empty selector selects nothing here, on purpose). */
function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels[k] === v);
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value))) if (typeof v === 'string') out[k] = v;
  return out;
}
