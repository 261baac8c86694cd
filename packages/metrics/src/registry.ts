import { Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsRegistryOptions {
  /**
   * Also export the default Node.js process metrics (CPU, memory, event-loop
   * lag, GC, handles; `process_*` and `nodejs_*`). No default: every caller
   * decides, because tests want a registry without them.
   */
  readonly defaultMetrics: boolean;
}

/** The text exposition of a registry, ready to serve at /metrics. */
export interface RenderedMetrics {
  /** The Prometheus text-format content type (with version and charset). */
  readonly contentType: string;
  readonly body: string;
}

/**
 * A fresh registry for one process (coordinator or worker). dtrain never
 * uses prom-client's global registry: whoever creates a registry owns it and
 * injects it into the metrics classes.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  if (options.defaultMetrics) collectProcessMetrics(registry);
  return registry;
}

/**
 * The one place default process metrics are switched on. prom-client starts
 * an event-loop-delay monitor and a GC observer for them, so this is a side
 * effect: call it once per registry (a second call throws on duplicate
 * names), never from a helper that merely defines metrics.
 */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}

/** Renders every metric of `registry` in the Prometheus text format. */
export async function renderMetrics(registry: Registry): Promise<RenderedMetrics> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
