/**
 * A Float32Array that grows by doubling: text formats (CSV, JSONL) and folder
 * trees do not say how many values they hold until they are read.
 */
export class GrowableFloat32 {
  #data = new Float32Array(1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(value: number): void {
    if (this.#length === this.#data.length) this.#grow(this.#length + 1);
    this.#data[this.#length++] = value;
  }

  /** Appends many values at once (a decoded image, a shard). */
  append(values: ArrayLike<number>): void {
    if (this.#length + values.length > this.#data.length) this.#grow(this.#length + values.length);
    this.#data.set(values, this.#length);
    this.#length += values.length;
  }

  #grow(atLeast: number): void {
    let size = this.#data.length * 2;
    while (size < atLeast) size *= 2;
    const next = new Float32Array(size);
    next.set(this.#data.subarray(0, this.#length));
    this.#data = next;
  }

  /** A copy holding exactly the values pushed. */
  toArray(): Float32Array {
    return this.#data.slice(0, this.#length);
  }
}
