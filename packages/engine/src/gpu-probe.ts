/**
 * Which NVIDIA GPUs the CUDA runtime in this process would see, without
 * loading CUDA: the driver's device list, narrowed by CUDA_VISIBLE_DEVICES.
 * Cheap and side-effect free, so it can run before choosing a backend.
 */

import { readdirSync } from 'node:fs';

/** File-system and environment access, injectable for tests. */
export interface GpuProbeHost {
  /** Entries of a directory; [] when it does not exist. */
  readonly listDir: (path: string) => readonly string[];
  /** The process environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Reads the real machine. */
export const systemGpuProbeHost: GpuProbeHost = {
  listDir: (path) => {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
  env: process.env,
};

/**
 * GPU device names as TensorFlow numbers them ('gpu:0', … — renumbered from 0
 * after CUDA_VISIBLE_DEVICES filtering), or [] when none is visible.
 */
export function visibleGpuDevices(host: GpuProbeHost = systemGpuProbeHost): string[] {
  // The driver lists one directory per GPU here; /dev/nvidiaN is the fallback
  // for containers that get the device nodes but not /proc/driver.
  let present = host.listDir('/proc/driver/nvidia/gpus').length;
  if (present === 0) present = host.listDir('/dev').filter((entry) => /^nvidia\d+$/.test(entry)).length;
  if (present === 0) return [];

  const mask = host.env['CUDA_VISIBLE_DEVICES'];
  let visible = present;
  if (mask !== undefined) {
    const ids = mask.split(',').map((id) => id.trim());
    // CUDA stops at the first invalid id; '' and '-1' hide every device.
    const valid: string[] = [];
    for (const id of ids) {
      if (id === '' || id.startsWith('-')) break;
      valid.push(id);
    }
    visible = Math.min(valid.length, present);
  }
  return Array.from({ length: visible }, (_, index) => `gpu:${index}`);
}
