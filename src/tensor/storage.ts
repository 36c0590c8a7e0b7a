// Internal storage helpers (not part of the public API).
//
// emptyF32(n): storage for a kernel output that the kernel overwrites completely (a GEMM with
// beta = 0, an elementwise result, a strided copy, ...). `new Float32Array(n)` zero-fills, which
// costs a full extra pass over memory for every activation and gradient of a training step; large
// requests here come from Buffer.allocUnsafeSlow instead (an ArrayBuffer of its own, byteOffset 0,
// owned by the garbage collector like any other), so only the kernel writes the memory. Never use
// it where something accumulates into the buffer or reads it before writing: the contents are
// arbitrary. Small requests (and runtimes without Buffer) take the zero-filled path, which is as
// cheap there.

const UNSAFE_MIN = 4096; // elements; below this the fill is cheaper than the separate allocation

type BufferLike = { allocUnsafeSlow(size: number): Uint8Array };
const NodeBuffer = (globalThis as unknown as { Buffer?: BufferLike }).Buffer;

export function emptyF32(n: number): Float32Array {
  if (n < UNSAFE_MIN || !NodeBuffer) return new Float32Array(n);
  const b = NodeBuffer.allocUnsafeSlow(n * 4);
  return new Float32Array(b.buffer, b.byteOffset, n);
}
