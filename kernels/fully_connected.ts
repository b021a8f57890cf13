// FULLY_CONNECTED, int8 activations with int8 weights (per-tensor or
// per-channel) and int32 bias, bit-exact with TFLM's reference
// FullyConnected. The per-tensor multiplier multiplies input and weight
// scales in float32 before the double division, unlike conv, which TFLM does
// in double throughout.
//
// The operator is the matrix product of gemm.ts, one row a batch, with the
// input zero point folded into the bias. Rows are read in place when the
// depth is a whole number of words; otherwise each invoke first copies them,
// padded, to scratch memory.

import { OperatorDef } from "../runtime/model.js";
import { isTflmInt8Operator, readBias } from "./common.js";
import { GEMM_TILE_BYTES, createGemmPlan, gemm } from "./gemm.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";
import { prepareFullyConnectedLayer } from "./layer_params.js";
import { prepareRequantization } from "./requantize.js";
import { packRows, sumRows } from "./weight_packing.js";

export const fullyConnectedKernel: Kernel = {
  name: "FULLY_CONNECTED",
  accepts: (context, op) => isTflmInt8Operator(context, op, 1),
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    const layer = prepareFullyConnectedLayer(context, op);
    const { batches, units, depth, inputZeroPoint, outputZeroPoint, multipliers, shifts, activationMin, activationMax, weightData } = layer;
    const bias = readBias(context, op, 2, units);
    context.notePersistentBytes(multipliers.byteLength + shifts.byteLength);

    const packed = packRows(context, weightData, units, depth);
    const weightSums = sumRows(weightData, units, depth);
    const requantization = prepareRequantization(bias, weightSums, inputZeroPoint, multipliers, shifts);
    const plan = createGemmPlan(packed.words, packed.rowWords, requantization, outputZeroPoint, activationMin, activationMax);
    context.notePersistentBytes(requantization.byteLength + GEMM_TILE_BYTES);

    const inputIndex = op.inputs[0];
    const outputIndex = op.outputs[0];
    const rowWords = packed.rowWords;
    // Activations live in the arena at offsets that are multiples of 16, but
    // a constant input may sit anywhere in the model.
    const inputAligned = !context.isConstant(inputIndex) || context.constantBytes(inputIndex).byteOffset % 4 === 0;
    const readsInPlace = depth % 4 === 0 && inputAligned;
    // Otherwise each invoke copies the input rows to scratch memory, padded to whole words.
    const scratch = readsInPlace ? -1 : context.requestScratch(batches * rowWords * 4);
    let inputData: Int8Array = new Int8Array(0);
    let inputWords: Int32Array = new Int32Array(0);
    let paddedRows: Int8Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);

    return {
      macs: batches * units * depth,
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        outputData = memory.int8(outputIndex);
        if (readsInPlace) {
          inputWords = new Int32Array(inputData.buffer, inputData.byteOffset, batches * rowWords);
        } else {
          inputWords = memory.scratchInt32(scratch, batches * rowWords);
          paddedRows = new Int8Array(inputWords.buffer, inputWords.byteOffset, batches * rowWords * 4);
        }
      },
      invoke(): void {
        if (!readsInPlace) {
          // The padding bytes keep their old values, which is harmless because their weights are 0.
          let batch, source, destination, end;
          for (batch = 0, source = 0; batch < batches; batch++) {
            destination = batch * rowWords * 4;
            for (end = destination + depth; destination < end; destination++, source++) paddedRows[destination] = inputData[source];
          }
        }
        gemm(plan, inputWords, 0, rowWords, batches, outputData, 0, units, 0, units);
      },
    };
  },
};
