// Bounds-checked typed array views for the fuzz build. tools/fuzz/bundle.ts
// substitutes this module for runtime/bounds_check.ts, so every view that
// MemoryContext hands to a kernel (arena activations, constants, scratch) is
// a Proxy that records each integer-indexed read or write outside
// [0, length). In plain JS such a read returns undefined and such a write is
// dropped, both silently.
//
// Limits of the method:
// - Only views created through MemoryContext are checked. Arrays a kernel
//   builds itself in prepare (multiplier tables, packed weights, bias
//   copies), views it derives with subarray(), and the FlatBufferReader
//   (which checks its own ranges) are not.
// - Reads through TypedArray methods (set, fill, subarray, copyWithin) run on
//   the unwrapped view and are not seen, because the methods are bound to it.
// - An index inside the view but outside the tensor the kernel meant (a view
//   sized too large) is not detected.
// - Each checked access goes through a Proxy trap, which is slower than a
//   plain element access, so timings of this build are not those of the
//   shipped bundle.

/** Out-of-bounds accesses recorded since the last reset, readable as globalThis.__microqOutOfBounds. */
export interface OutOfBoundsLog {
  count: number;
  /** The first few accesses, for example "read of tensor 3 [64], length 64". */
  samples: string[];
}

const MAX_SAMPLES = 5;

const log: OutOfBoundsLog = { count: 0, samples: [] };
(globalThis as unknown as { __microqOutOfBounds: OutOfBoundsLog }).__microqOutOfBounds = log;

/** Returns the integer index a property key names, or undefined for a key that is not a canonical number. */
function numericKey(key: string | symbol): number | undefined {
  if (typeof key !== "string") return undefined;
  const value = Number(key);
  // "NaN", "Infinity", "-1" and "1.5" are canonical numeric keys too: a typed
  // array returns undefined for them, so they count as out of bounds.
  return String(value) === key ? value : undefined;
}

function record(access: string, tensorIndex: number, index: number, length: number): void {
  log.count++;
  if (log.samples.length < MAX_SAMPLES) {
    const viewName = tensorIndex >= 0 ? `tensor ${tensorIndex}` : "scratch buffer";
    log.samples.push(`${access} of ${viewName} [${index}], length ${length}`);
  }
}

/** Returns a proxy of `view` that records out-of-bounds element reads and writes. */
export function checkedView<T extends ArrayBufferView>(view: T, tensorIndex: number): T {
  const target = view as unknown as { length: number; [index: number]: number };
  return new Proxy(view, {
    get(_, key) {
      const index = numericKey(key);
      if (index !== undefined) {
        if (!(index >= 0 && index < target.length && Number.isInteger(index))) record("read", tensorIndex, index, target.length);
        return target[index];
      }
      const value = Reflect.get(view, key, view);
      return typeof value === "function" ? value.bind(view) : value;
    },
    set(_, key, value) {
      const index = numericKey(key);
      if (index !== undefined) {
        if (!(index >= 0 && index < target.length && Number.isInteger(index))) record("write", tensorIndex, index, target.length);
        target[index] = value;
        return true;
      }
      return Reflect.set(view, key, value, view);
    },
  });
}
