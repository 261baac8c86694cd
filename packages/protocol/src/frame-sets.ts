/**
 * Reusable chunk frames for the data plane. A shard writes each version's
 * weights into one set of frames and every worker socket is handed the same
 * bytes; a worker writes each step's gradient chunks into one. A socket may
 * hold a frame until the kernel takes it, so a set is reused only when every
 * send of it has completed. Two sets cover steady state (one being sent, one
 * being written); a slow reader that still holds both makes a third, which
 * is then reused like the others.
 */
export class FrameSet {
  /** One buffer per chunk of the shard, each exactly one frame long. */
  readonly frames: Uint8Array[];
  #holds = 0;

  constructor(frameBytes: readonly number[]) {
    // One allocation per set, sliced into 4-aligned frames (payloads are float32).
    const total = frameBytes.reduce((sum, n) => sum + align4(n), 0);
    const memory = new Uint8Array(total);
    let at = 0;
    this.frames = frameBytes.map((n) => {
      const frame = memory.subarray(at, at + n);
      at += align4(n);
      return frame;
    });
  }

  /** A send of one of these frames has started; call `release` once it completes. */
  retain(): void {
    this.#holds += 1;
  }

  release(): void {
    if (this.#holds > 0) this.#holds -= 1;
  }

  get inUse(): boolean {
    return this.#holds > 0;
  }
}

export class FrameSets {
  readonly #frameBytes: readonly number[];
  readonly #sets: FrameSet[] = [];
  #last: FrameSet | undefined;

  constructor(frameBytes: readonly number[]) {
    this.#frameBytes = frameBytes;
  }

  /** Sets allocated so far. */
  get allocated(): number {
    return this.#sets.length;
  }

  /**
   * A set no send holds and that is not the one handed out last (for a
   * shard, that one holds the current weights, which joining workers may
   * still be sent).
   */
  acquire(): FrameSet {
    let set = this.#sets.find((s) => !s.inUse && s !== this.#last);
    if (set === undefined) {
      set = new FrameSet(this.#frameBytes);
      this.#sets.push(set);
    }
    this.#last = set;
    return set;
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}
