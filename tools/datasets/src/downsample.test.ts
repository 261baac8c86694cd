import { describe, expect, it } from 'vitest';
import { downsampleImages } from './downsample.js';

describe('downsampleImages', () => {
  it('averages each factor×factor block, per image', () => {
    const pixels = Float32Array.from([
      // image 0 (4×4)
      0, 2, 10, 10,
      4, 6, 10, 10,
      255, 255, 1, 2,
      255, 254, 3, 4,
      // image 1: constant
      ...Array<number>(16).fill(7),
    ]);
    const { values, side } = downsampleImages(pixels, 2, 4, 2);
    expect(side).toBe(2);
    expect(Array.from(values)).toEqual([3, 10, 255, 3, 7, 7, 7, 7]);
  });

  it('refuses a factor that does not divide the side, or a wrong pixel count', () => {
    expect(() => downsampleImages(new Float32Array(16), 1, 4, 3)).toThrow('factor 3 must be a positive integer dividing the side 4');
    expect(() => downsampleImages(new Float32Array(15), 1, 4, 2)).toThrow('expected 16 pixels, got 15');
  });
});
