import { describe, expect, it } from 'vitest';
import { checkConsistency } from './check-consistency.js';
import { coordinatorDeployment, coordinatorService, stateClaim } from './coordinator-manifests.js';
import { jobConfigMap, tokenSecret } from './job-inputs.js';
import { jobNames } from './job-names.js';
import { toYamlStream } from './manifest-yaml.js';
import { coordinatorServiceMonitor, shardPodMonitor, workerPodMonitor } from './monitoring-manifests.js';
import { shardService, shardStatefulSet } from './shard-statefulset.js';
import { parseManifestYaml, validateObjects, type KubeObject } from './validate-manifests.js';
import { workerDeployment } from './worker-deployment.js';

const names = jobNames('demo');

/** A complete, correct set of one job's objects as plain data, fresh for each test to break. */
function objects(): KubeObject[] {
  const manifests = [
    jobConfigMap(names, 'name: demo\n'),
    tokenSecret(names, 'secret'),
    stateClaim({ names, stateSize: '1Gi' }),
    coordinatorService({ names }),
    coordinatorDeployment({ names, image: 'img', tokenSecret: names.token, configMap: names.config, stateSize: '1Gi' }),
    shardService({ names }),
    shardStatefulSet({ names, image: 'img', replicas: 2, tokenSecret: names.token }),
    workerDeployment({ names, image: 'img', replicas: 2, gpu: false, tokenSecret: names.token }),
    coordinatorServiceMonitor({ names }),
    workerPodMonitor({ names }),
    shardPodMonitor({ names }),
  ];
  return parseManifestYaml(toYamlStream(manifests));
}

type Path = readonly (string | number)[];
/** Sets (or, with `undefined`, deletes) the field at `path` of the object `ref` (`Kind/name`). */
function setAt(list: KubeObject[], ref: string, path: Path, value: unknown): void {
  let node: unknown = list.find((o) => `${String(o.kind)}/${String(o.metadata?.name)}` === ref);
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, unknown>)[key];
  const last = path.at(-1) ?? '';
  if (value === undefined) delete (node as Record<string | number, unknown>)[last];
  else (node as Record<string | number, unknown>)[last] = value;
}
const CONTAINER = ['spec', 'template', 'spec', 'containers', 0] as const;

describe('validateObjects (Kubernetes and prometheus-operator schemas)', () => {
  it('accepts a correct job, after a round trip through YAML', () => {
    const list = objects();
    expect(list.map((o) => o.kind)).toEqual(['ConfigMap', 'Secret', 'PersistentVolumeClaim', 'Service', 'Deployment', 'Service', 'StatefulSet', 'Deployment', 'ServiceMonitor', 'PodMonitor', 'PodMonitor']);
    expect(validateObjects(list)).toEqual([]);
    expect(checkConsistency(list)).toEqual([]);
  });

  it.each<[string, (list: KubeObject[]) => void, RegExp]>([
    ['a port number as a word', (l) => setAt(l, 'Deployment/demo-coordinator', [...CONTAINER, 'ports', 0, 'containerPort'], 'seventy'), /containerPort must be integer/],
    ['a container without a name', (l) => setAt(l, 'Deployment/demo-worker', [...CONTAINER, 'name'], undefined), /containers\/0 must have required property name/],
    ['an unknown strategy', (l) => setAt(l, 'Deployment/demo-coordinator', ['spec', 'strategy', 'type'], 'Sometimes'), /strategy\/type/],
    ['replicas as a string', (l) => setAt(l, 'Deployment/demo-worker', ['spec', 'replicas'], '3'), /replicas must be integer/],
    ['a ServiceMonitor endpoint list that is not a list', (l) => setAt(l, 'ServiceMonitor/demo-coordinator', ['spec', 'endpoints'], { port: 'http' }), /endpoints must be array/],
    ['an unknown pod management policy', (l) => setAt(l, 'StatefulSet/demo-ps', ['spec', 'podManagementPolicy'], 'AllAtOnce'), /podManagementPolicy must be equal to one of the allowed values/],
    ['a StatefulSet without its selector', (l) => setAt(l, 'StatefulSet/demo-ps', ['spec', 'selector'], undefined), /must have required property selector/],
  ])('rejects %s', (_what, breakIt, message) => {
    const list = objects();
    breakIt(list);
    const problems = validateObjects(list);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(message);
  });

  it('reports kinds it has no schema for instead of passing them', () => {
    expect(validateObjects([{ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'x' } }])).toEqual([
      { object: 'CronJob/x', message: 'no schema for apiVersion batch/v1 kind CronJob' },
    ]);
  });
});

describe('checkConsistency (mistakes between objects)', () => {
  it.each<[string, (list: KubeObject[]) => void, string]>([
    ['a selector that misses its pods', (l) => setAt(l, 'Deployment/demo-worker', ['spec', 'selector', 'matchLabels', 'app.kubernetes.io/component'], 'workers'), 'Deployment/demo-worker: spec.selector.matchLabels does not match the pod template labels'],
    ['a Service that selects nothing', (l) => setAt(l, 'Service/demo-coordinator', ['spec', 'selector', 'app.kubernetes.io/instance'], 'other'), 'Service/demo-coordinator: spec.selector matches no pod template'],
    ['a Service target port that is not named', (l) => setAt(l, 'Service/demo-coordinator', ['spec', 'ports', 0, 'targetPort'], 'web'), 'Service/demo-coordinator: targetPort "web" is not a named container port of the selected pods'],
    ['a probe on an unnamed port', (l) => setAt(l, 'Deployment/demo-coordinator', [...CONTAINER, 'readinessProbe', 'httpGet', 'port'], 'status'), 'Deployment/demo-coordinator: container coordinator: readinessProbe port "status" is not a named container port'],
    ['a mount without a volume', (l) => setAt(l, 'Deployment/demo-coordinator', ['spec', 'template', 'spec', 'volumes', 1], { name: 'scratch', emptyDir: {} }), 'Deployment/demo-coordinator: container coordinator: volumeMount state has no volume'],
    ['a missing ConfigMap', (l) => void l.splice(0, 1), 'Deployment/demo-coordinator: volume config: ConfigMap/demo-job is not among the objects'],
    ['a missing token Secret', (l) => void l.splice(1, 1), 'Deployment/demo-coordinator: container coordinator: env DTRAIN_TOKEN: Secret/demo-token is not among the objects'],
    ['a PodMonitor on a port the workers lack', (l) => setAt(l, 'PodMonitor/demo-worker', ['spec', 'podMetricsEndpoints', 0, 'port'], 'prom'), 'PodMonitor/demo-worker: podMetricsEndpoints port "prom" is not a named container port of the selected pods'],
    ['a ServiceMonitor that selects no Service', (l) => setAt(l, 'ServiceMonitor/demo-coordinator', ['spec', 'selector', 'matchLabels', 'app.kubernetes.io/component'], 'worker'), 'ServiceMonitor/demo-coordinator: spec.selector matches no Service'],
    ['a StatefulSet selector that misses its pods', (l) => setAt(l, 'StatefulSet/demo-ps', ['spec', 'selector', 'matchLabels', 'app.kubernetes.io/component'], 'shard'), 'StatefulSet/demo-ps: spec.selector.matchLabels does not match the pod template labels'],
    ['a StatefulSet whose governing Service is missing', (l) => setAt(l, 'StatefulSet/demo-ps', ['spec', 'serviceName'], 'demo-shards'), 'StatefulSet/demo-ps: spec.serviceName: Service/demo-shards is not among the objects'],
    ['a StatefulSet whose Service is not headless', (l) => setAt(l, 'Service/demo-ps', ['spec', 'clusterIP'], undefined), 'StatefulSet/demo-ps: spec.serviceName: Service/demo-ps is not headless (clusterIP: None), so its pods get no DNS names'],
    ['a shard probe on an unnamed port', (l) => setAt(l, 'StatefulSet/demo-ps', [...CONTAINER, 'readinessProbe', 'httpGet', 'port'], 'http'), 'StatefulSet/demo-ps: container ps: readinessProbe port "http" is not a named container port'],
    ['a shard PodMonitor on a port the shards lack', (l) => setAt(l, 'PodMonitor/demo-ps', ['spec', 'podMetricsEndpoints', 0, 'port'], 'metrics'), 'PodMonitor/demo-ps: podMetricsEndpoints port "metrics" is not a named container port of the selected pods'],
  ])('finds %s', (_what, breakIt, expected) => {
    const list = objects();
    breakIt(list);
    const problems = checkConsistency(list).map((p) => `${p.object}: ${p.message}`);
    expect(problems).toContain(expected);
  });

  it('accepts references to objects declared external (a Secret the user creates)', () => {
    const list = objects().filter((o) => o.kind !== 'Secret');
    expect(checkConsistency(list)).not.toEqual([]);
    expect(checkConsistency(list, { external: ['Secret/demo-token'] })).toEqual([]);
  });
});
