// Prepare-time checks and the copies of the data-movement kernels
// (STRIDED_SLICE, SQUEEZE, EXPAND_DIMS, RESHAPE, and PAD and TRANSPOSE in
// kernels/affine): these operators write stored values unchanged, so input
// and output share one element type of 1, 2 or 4 bytes.

import { InvalidModelError, UnsupportedError } from "../../runtime/errors.js";
import { OperatorDef, TensorDef } from "../../runtime/model.js";
import { tensorTypeBytes, tensorTypeName } from "../../runtime/tensor_types.js";
import { checkOutputCount, describeTensor } from "../common.js";
import { MemoryContext, PrepareContext, PreparedOp } from "../kernel.js";
import {
  ElementArray,
  MAX_LOOP_RANK,
  checkMaxRank,
  checkMovableType,
  checkSameQuantization,
  describeOperator,
  elementView,
} from "../affine/elementwise_common.js";

/**
 * Checks that input and output quantization agree, as far as the model's
 * requantization scheme requires. Under "tflm" nothing is checked, because
 * TFLM's PAD, TRANSPOSE, STRIDED_SLICE, SQUEEZE and EXPAND_DIMS
 * (tflite-micro 90b983c2) copy the stored values whatever the quantization
 * parameters are. The other schemes require equal quantization, because a
 * copy does not rescale.
 */
export function checkCopiedQuantization(
  context: PrepareContext,
  op: OperatorDef,
  input: TensorDef,
  output: TensorDef,
  inputRole: string,
): void {
  if (context.scheme.name === "tflm") return;
  checkSameQuantization(op, input, output, inputRole);
}

/**
 * Checks the first input and the single output of a data-movement operator:
 * the same element type of 1, 2 or 4 bytes, and quantization as
 * checkCopiedQuantization requires. Returns [input, output].
 */
export function copiedTensors(context: PrepareContext, op: OperatorDef): [TensorDef, TensorDef] {
  checkOutputCount(op, 1);
  const input = context.tensor(op.inputs[0]);
  const output = context.tensor(op.outputs[0]);
  checkMovableType(op, input, "input");
  if (output.type !== input.type) {
    throw new InvalidModelError(
      `${describeOperator(op)}: input ${describeTensor(input)} is ${tensorTypeName(input.type)} but output ` +
        `${describeTensor(output)} is ${tensorTypeName(output.type)}; ${op.name} keeps the element type, so the file is corrupted`,
    );
  }
  checkCopiedQuantization(context, op, input, output, "input");
  return [input, output];
}

/** Like copiedTensors, and also checks that input and output have at most six dimensions, the depth of the loop nests. */
export function movementTensors(context: PrepareContext, op: OperatorDef): [TensorDef, TensorDef] {
  const [input, output] = copiedTensors(context, op);
  checkMaxRank(op, input, "input");
  checkMaxRank(op, output, "output");
  return [input, output];
}

/**
 * Prepares a copy of all input bytes to the output, for operators that only
 * change the shape (SQUEEZE, EXPAND_DIMS, RESHAPE). The element counts must
 * be equal, and the element type 1, 2 or 4 bytes wide, which copiedTensors
 * has already checked for SQUEEZE and EXPAND_DIMS.
 */
export function prepareShapeOnlyCopy(op: OperatorDef, input: TensorDef, output: TensorDef): PreparedOp {
  if (input.elementCount !== output.elementCount) {
    throw new InvalidModelError(
      `${describeOperator(op)}: input ${describeTensor(input)} has shape [${input.shape}] (${input.elementCount} elements) ` +
        `but output ${describeTensor(output)} has shape [${output.shape}] (${output.elementCount}); the file is corrupted`,
    );
  }
  const elementBytes = tensorTypeBytes(input.type);
  if (elementBytes !== 1 && elementBytes !== 2 && elementBytes !== 4) {
    throw new UnsupportedError(
      `${describeOperator(op)}: input ${describeTensor(input)} is ${tensorTypeName(input.type)}; ` +
        `${op.name} supports element types of 1, 2 or 4 bytes here`,
    );
  }
  const byteLength = input.byteLength;
  let inputBytes: Uint8Array = new Uint8Array(0);
  let outputBytes: Uint8Array = new Uint8Array(0);
  // When both tensors lie in one buffer (the arena), span covers both, with
  // the output and the input at these byte positions.
  let span: Uint8Array | null = null;
  let outputStart = 0;
  let inputStart = 0;

  return {
    macs: 0,
    bind(memory: MemoryContext): void {
      inputBytes = byteView(memory, input, elementBytes);
      outputBytes = byteView(memory, output, elementBytes);
      span = null;
      if (inputBytes.buffer === outputBytes.buffer) {
        const start = Math.min(inputBytes.byteOffset, outputBytes.byteOffset);
        const end = Math.max(inputBytes.byteOffset + inputBytes.byteLength, outputBytes.byteOffset + outputBytes.byteLength);
        span = new Uint8Array(inputBytes.buffer, start, end - start);
        outputStart = outputBytes.byteOffset - start;
        inputStart = inputBytes.byteOffset - start;
      }
    },
    invoke(): void {
      // Within one buffer, XS's TypedArray.prototype.set copies the source
      // into a new ArrayBuffer first (xsDataView.c in @agoric/xsnap 0.15.0),
      // so copyWithin, which allocates nothing, copies there.
      if (span !== null) {
        if (outputStart !== inputStart) span.copyWithin(outputStart, inputStart, inputStart + byteLength);
        return;
      }
      outputBytes.set(inputBytes);
    },
  };
}

/**
 * Prepares a copy that gathers the input elements in output order with six
 * nested loops (STRIDED_SLICE, TRANSPOSE). Level d of `counts` and `steps`
 * gives an element count and an input step in elements, outermost first.
 * There are at most MAX_LOOP_RANK levels, and levels of one element fill the
 * nest in front. The walk starts at input element `origin`.
 */
export function prepareGatherCopy(
  input: TensorDef,
  output: TensorDef,
  counts: readonly number[],
  steps: readonly number[],
  origin: number,
): PreparedOp {
  const fill = MAX_LOOP_RANK - counts.length;
  const [n0, n1, n2, n3, n4, n5] = new Array<number>(fill).fill(1).concat(counts);
  const [t0, t1, t2, t3, t4, t5] = new Array<number>(fill).fill(0).concat(steps);

  let inputData: ElementArray = new Uint8Array(0);
  let outputData: ElementArray = new Uint8Array(0);

  return {
    macs: 0,
    bind(memory: MemoryContext): void {
      inputData = elementView(memory, input);
      outputData = elementView(memory, output);
    },
    invoke(): void {
      const source = inputData;
      const out = outputData;
      let outIndex = 0;
      for (let i0 = 0; i0 < n0; i0++) {
        const base0 = origin + i0 * t0;
        for (let i1 = 0; i1 < n1; i1++) {
          const base1 = base0 + i1 * t1;
          for (let i2 = 0; i2 < n2; i2++) {
            const base2 = base1 + i2 * t2;
            for (let i3 = 0; i3 < n3; i3++) {
              const base3 = base2 + i3 * t3;
              for (let i4 = 0; i4 < n4; i4++) {
                let inIndex = base3 + i4 * t4;
                for (let i5 = 0; i5 < n5; i5++) {
                  out[outIndex++] = source[inIndex];
                  inIndex += t5;
                }
              }
            }
          }
        }
      }
    },
  };
}

/** Returns a byte view of the tensor, through the MemoryContext view of its element size. */
function byteView(memory: MemoryContext, tensor: TensorDef, elementBytes: number): Uint8Array {
  let view: Uint8Array | Int16Array | Int32Array;
  if (elementBytes === 1) view = memory.uint8(tensor.index);
  else if (elementBytes === 2) view = memory.int16(tensor.index);
  else view = memory.int32(tensor.index);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}
