// Hook through which the fuzz build swaps in bounds-checked typed array
// views: tools/fuzz/bundle.ts replaces this module with
// tools/fuzz/checked_views.ts in dist/microq-fuzz.js only. In the shipped
// bundle it returns the view unchanged, once per tensor when kernels bind.

/** Returns `view` itself; the fuzz build returns a proxy that records reads and writes outside it. */
export function checkedView<T extends ArrayBufferView>(view: T, _tensorIndex: number): T {
  return view;
}
