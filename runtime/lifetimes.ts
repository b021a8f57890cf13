// Tensor lifetimes, the input of the memory planner.

import { ModelDef } from "./model.js";

/** [first, last] operator index using each non-constant tensor that needs arena memory. */
export function tensorLifetimes(model: ModelDef): Map<number, [number, number]> {
  const lastOp = Math.max(model.operators.length - 1, 0);
  const lifetimes = new Map<number, [number, number]>();
  const touch = (index: number, at: number) => {
    if (index < 0) return;
    const tensor = model.tensors[index];
    // Constants stay in the model buffer; a variable tensor lives in the
    // arena even when the file gives it initial data, which TFLM ignores too.
    if (tensor.dataOffset >= 0 && !tensor.isVariable) return;
    const lifetime = lifetimes.get(index);
    if (lifetime === undefined) lifetimes.set(index, [at, at]);
    else {
      if (at < lifetime[0]) lifetime[0] = at;
      if (at > lifetime[1]) lifetime[1] = at;
    }
  };
  for (const index of model.inputs) touch(index, 0);
  for (const op of model.operators) {
    for (const index of op.inputs) touch(index, op.index);
    for (const index of op.outputs) touch(index, op.index);
  }
  for (const index of model.outputs) touch(index, lastOp);
  // Variable tensors keep their state across invokes, so they live throughout.
  for (const tensor of model.tensors) {
    if (tensor.isVariable && lifetimes.has(tensor.index)) lifetimes.set(tensor.index, [0, lastOp]);
  }
  return lifetimes;
}

