// Memory planning: places every buffer that lives in the arena at an offset
// so that buffers alive at the same time never overlap. Greedy by size,
// largest first, each at the lowest offset that fits between buffers whose
// lifetimes intersect its own, as TFLM's GreedyMemoryPlanner does.

/** A buffer to place: bytes, and the first and last operator index that use it. */
export interface PlanRequest {
  readonly bytes: number;
  readonly firstUse: number;
  readonly lastUse: number;
}

export interface MemoryPlan {
  /** Byte offset of each request, in request order. */
  readonly offsets: number[];
  /** Arena bytes needed: the highest end offset. */
  readonly arenaBytes: number;
}

/** Offsets and sizes are rounded up to this, so that every typed array view is aligned. */
export const ARENA_ALIGNMENT = 16;

export function alignUp(bytes: number): number {
  return Math.ceil(bytes / ARENA_ALIGNMENT) * ARENA_ALIGNMENT;
}

export function planMemory(requests: readonly PlanRequest[]): MemoryPlan {
  const order: number[] = [];
  for (let i = 0; i < requests.length; i++) order.push(i);
  order.sort((a, b) => requests[b].bytes - requests[a].bytes || requests[a].firstUse - requests[b].firstUse || a - b);

  const offsets: number[] = new Array(requests.length).fill(-1);
  const placed: number[] = [];
  let arenaBytes = 0;

  for (const i of order) {
    const request = requests[i];
    const size = alignUp(request.bytes);

    const conflicts = placed
      .filter((j) => requests[j].firstUse <= request.lastUse && request.firstUse <= requests[j].lastUse)
      .sort((a, b) => offsets[a] - offsets[b]);

    // Walk the conflicting buffers by offset and take the first gap that fits.
    let candidate = 0;
    for (const j of conflicts) {
      if (offsets[j] - candidate >= size) break;
      candidate = Math.max(candidate, offsets[j] + alignUp(requests[j].bytes));
    }
    offsets[i] = candidate;
    placed.push(i);
    arenaBytes = Math.max(arenaBytes, candidate + size);
  }
  return { offsets, arenaBytes };
}
