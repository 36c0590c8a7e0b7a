// Seeded random numbers, identical on every platform.
//
// The generator is xoshiro128** (Blackman and Vigna, 2018) on four 32-bit words, seeded by running
// splitmix32 over the seed. It uses only 32-bit integer arithmetic (Math.imul, shifts), so a seed
// gives the same sequence in every JavaScript engine and on every CPU. Derived values:
//   uniform()  a double in [0, 1) from 53 random bits: (a >>> 5) * 2^26 + (b >>> 6), / 2^53
//   normal()   Box-Muller on two uniforms: r = sqrt(-2 ln(1 - u1)), values r cos(2 pi u2) then
//              r sin(2 pi u2) (the second is cached and returned by the next call)
//   randint(n) an integer in [0, n) by rejection (unbiased)
// Transcendentals come from V8's fdlibm ports, which are deterministic across platforms.
// The sequence is NOT PyTorch's: tests that compare with PyTorch load its tensors from fixtures.

function splitmix32(state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0;
  let z = state.s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;
  private seedValue = 0;

  constructor(seed = 0) {
    this.manualSeed(seed);
  }

  /** Resets the generator to the start of the sequence for `seed` (an integer, may exceed 2^32). */
  manualSeed(seed: number): this {
    if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
      throw new Error(`manualSeed: the seed must be an integer, got ${seed}`);
    }
    this.seedValue = seed;
    // Fold the (up to 53-bit) seed into 32 bits without losing the high part.
    const hi = Math.floor(seed / 4294967296) | 0;
    const st = { s: (seed | 0) ^ Math.imul(hi, 0x27d4eb2f) };
    this.s0 = splitmix32(st);
    this.s1 = splitmix32(st);
    this.s2 = splitmix32(st);
    this.s3 = splitmix32(st);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
    this.spare = null;
    return this;
  }

  initialSeed(): number {
    return this.seedValue;
  }

  /** The next 32-bit unsigned integer of the sequence. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A double in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A standard normal sample (Box-Muller, pairs cached). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const u1 = this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(1 - u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** An integer in [0, n), unbiased (n <= 2^32). */
  randint(n: number): number {
    if (!(n >= 1) || n > 4294967296 || !Number.isInteger(n)) throw new Error(`randint: n must be an integer in [1, 2^32], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }

  /**
   * The full state, for checkpoints (trainer state) and exact resumption: plain JSON (the cached
   * normal sample is null when there is none).
   */
  getState(): (number | null)[] {
    return [this.s0, this.s1, this.s2, this.s3, this.spare, this.seedValue];
  }

  setState(state: readonly (number | null)[]): void {
    if (!Array.isArray(state) || state.length !== 6 || [0, 1, 2, 3, 5].some((i) => typeof state[i] !== "number")) {
      throw new Error("Generator.setState: expected the 6 values from getState()");
    }
    [this.s0, this.s1, this.s2, this.s3] = state.slice(0, 4).map((x) => (x as number) | 0);
    const spare = state[4];
    this.spare = typeof spare === "number" && !Number.isNaN(spare) ? spare : null;
    this.seedValue = state[5] as number;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** The process-wide default generator used when no generator is passed. */
export const defaultGenerator = new Generator(0);

/** Seeds the default generator (like torch.manual_seed). */
export function manualSeed(seed: number): void {
  defaultGenerator.manualSeed(seed);
}
