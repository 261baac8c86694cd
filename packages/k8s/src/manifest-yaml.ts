/** Kubernetes objects as one multi-document YAML stream, the format `kubectl apply -f` reads. */
import { stringify } from 'yaml';
import type { Manifest } from './manifest.js';

/**
 * @param header comment lines put before the first document (without `#`).
 */
export function toYamlStream(manifests: readonly Manifest[], header: readonly string[] = []): string {
  const comment = header.map((line) => (line === '' ? '#\n' : `# ${line}\n`)).join('');
  // lineWidth 0: never fold long strings (PromQL, image names); multi-line strings become `|` blocks.
  const documents = manifests.map((m) => stringify(m.toJSON(), { lineWidth: 0 }));
  return comment + documents.join('---\n');
}
