// SVDF with int8 input and output, int8 feature weights, int8 or int16 time
// weights and activation state, and an optional int32 bias, bit-exact with
// TFLM's reference integer SVDF (EvalIntegerSvdfReference in
// micro/kernels/svdf_common.cc, commit 90b983c2).
//
// Each invoke:
//   1. shifts the whole state buffer left by one element, so every filter's
//      memory drops its oldest value;
//   2. writes the feature product of each filter, requantized to the state
//      type, into the filter's newest memory slot;
//   3. sums, per output unit, the time products of its `rank` filters over
//      their memory, adds the bias and requantizes to int8.
//
// NOTE: like TFLM's integer path, the kernel ignores the fused activation
// of SVDFOptions and clamps only to the int8 range.

import { InvalidModelError, UnsupportedError } from "../runtime/errors.js";
import { multiplyByQuantizedMultiplier } from "../runtime/fixedpoint.js";
import { OperatorDef, TensorDef } from "../runtime/model.js";
import { quantizeMultiplier } from "../runtime/quantize_multiplier.js";
import { toFloat32 } from "../runtime/requantization/common.js";
import { readSvdfOptions } from "../runtime/schema/options_svdf.js";
import { TensorType, tensorTypeName } from "../runtime/tensor_types.js";
import {
  checkInputCount,
  checkOutputCount,
  checkPerTensorQuantization,
  checkRank,
  checkShape,
  checkType,
  checkZeroPoint,
  describeTensor,
  typeRange,
} from "./common.js";
import { Kernel, MemoryContext, PrepareContext, PreparedOp } from "./kernel.js";

const INPUT = 0;
const WEIGHTS_FEATURE = 1;
const WEIGHTS_TIME = 2;
const BIAS = 3;
const ACTIVATION_STATE = 4;

/** TFLM accepts a bias whose scale is within this distance of state_scale * weights_time_scale. */
const BIAS_SCALE_TOLERANCE = 1e-5;

/** Memory sizes up to 2^22 keep a filter's sum of time products, each below 2^31, under 2^53. */
const MAX_MEMORY_SIZE = 1 << 22;

export const svdfKernel: Kernel = {
  name: "SVDF",
  prepare(context: PrepareContext, op: OperatorDef): PreparedOp {
    checkInputCount(op, 5, 5);
    checkOutputCount(op, 1);
    const input = context.tensor(op.inputs[INPUT]);
    const weightsFeature = context.tensor(op.inputs[WEIGHTS_FEATURE]);
    const weightsTime = context.tensor(op.inputs[WEIGHTS_TIME]);
    const bias = op.inputs[BIAS] >= 0 ? context.tensor(op.inputs[BIAS]) : null;
    const state = context.tensor(op.inputs[ACTIVATION_STATE]);
    const output = context.tensor(op.outputs[0]);

    if (context.scheme.name !== "tflm") {
      throw new UnsupportedError(
        `operator ${op.index} (SVDF) has TFLM's integer arithmetic only, and this model asks for the requantization ` +
          `scheme "${context.scheme.name}"; run it with the scheme "tflm"`,
      );
    }
    checkType(op, input, "input", [TensorType.INT8]);
    checkType(op, weightsFeature, "weights_feature", [TensorType.INT8]);
    checkType(op, weightsTime, "weights_time", [TensorType.INT8, TensorType.INT16]);
    checkType(op, state, "activation state", [TensorType.INT8, TensorType.INT16]);
    if (bias !== null) checkType(op, bias, "bias", [TensorType.INT32]);
    checkType(op, output, "output", [TensorType.INT8]);
    // TFLM picks the state's element type from weights_time and reads the
    // state with it, so the two types must agree.
    if (state.type !== weightsTime.type) {
      throw new UnsupportedError(
        `operator ${op.index} (SVDF): activation state ${describeTensor(state)} is ${tensorTypeName(state.type)} but ` +
          `weights_time ${describeTensor(weightsTime)} is ${tensorTypeName(weightsTime.type)}; SVDF needs both int8 or both int16`,
      );
    }
    if (!state.isVariable) {
      throw new InvalidModelError(
        `operator ${op.index} (SVDF): activation state ${describeTensor(state)} is not a variable tensor; ` +
          `SVDF keeps its memory there between invokes, so the converter must mark it is_variable`,
      );
    }

    const geometry = checkShapes(context, op, input, weightsFeature, weightsTime, bias, state, output);
    const { batches, inputSize, filters, units, rank, memorySize } = geometry;

    for (const [tensor, role] of [
      [input, "input"],
      [weightsFeature, "weights_feature"],
      [weightsTime, "weights_time"],
      [state, "activation state"],
      [output, "output"],
    ] as const) {
      checkPerTensorQuantization(op, tensor, role);
    }
    checkSymmetricWeights(op, weightsFeature, "weights_feature");
    checkSymmetricWeights(op, weightsTime, "weights_time");
    const inputZeroPoint = checkZeroPoint(op, input, "input");
    const stateZeroPoint = checkZeroPoint(op, state, "activation state");
    const outputZeroPoint = checkZeroPoint(op, output, "output");

    // TFLM multiplies and divides the float32 scales in float32 and only
    // then widens the quotient to double for QuantizeMultiplier. toFloat32
    // rounds like Math.fround, also on XS, whose Math.fround returns an
    // int32-typed value unrounded.
    const f32 = toFloat32;
    const inputScale = input.scale[0];
    const stateScale = state.scale[0];
    const stateTimesWeightsTime = f32(stateScale * weightsTime.scale[0]);
    const featureScale = f32(f32(inputScale * weightsFeature.scale[0]) / stateScale);
    const timeScale = f32(stateTimesWeightsTime / output.scale[0]);
    if (bias !== null) {
      const biasScale = bias.scale.length > 0 ? bias.scale[0] : 0;
      if (!(Math.abs(biasScale - stateTimesWeightsTime) < BIAS_SCALE_TOLERANCE)) {
        throw new InvalidModelError(
          `operator ${op.index} (SVDF): bias ${describeTensor(bias)} has scale ${biasScale}, expected ` +
            `activation state scale * weights_time scale = ${stateTimesWeightsTime} (within ${BIAS_SCALE_TOLERANCE}); ` +
            `requantize the bias to that scale`,
        );
      }
    }
    const subject = `operator ${op.index} (SVDF)`;
    const feature = quantizeMultiplier(featureScale, `${subject} feature rescale`);
    const time = quantizeMultiplier(timeScale, `${subject} output rescale`);

    const [stateMin, stateMax] = typeRange(state.type);
    const stateIsInt16 = state.type === TensorType.INT16;
    const scratch = context.requestScratch(inputSize * 4);

    const inputIndex = op.inputs[INPUT];
    const weightsFeatureIndex = op.inputs[WEIGHTS_FEATURE];
    const weightsTimeIndex = op.inputs[WEIGHTS_TIME];
    const biasIndex = bias === null ? -1 : op.inputs[BIAS];
    const stateIndex = op.inputs[ACTIVATION_STATE];
    const outputIndex = op.outputs[0];
    const featureMultiplier = feature.multiplierQ31;
    const featureShift = feature.shift;
    const timeMultiplier = time.multiplierQ31;
    const timeShift = time.shift;
    const stateBatchStride = filters * memorySize;
    const unitStride = rank * memorySize;
    const newestSlot = memorySize - 1;

    /** Requantizes a feature sum to the state type and writes it to states[index]. */
    function storeFeature(states: Int8Array | Int16Array, index: number, dot: number): void {
      let value = multiplyByQuantizedMultiplier(dot | 0, featureMultiplier, featureShift);
      if (value < stateMin) value = stateMin;
      if (value > stateMax) value = stateMax;
      // The typed array wraps stateZeroPoint + value to the state type, as
      // TFLM's cast to int8 or int16 does.
      states[index] = stateZeroPoint + value;
    }

    let inputData: Int8Array = new Int8Array(0);
    let centeredInput: Int32Array = new Int32Array(0);
    let weightsFeatureData: Int8Array = new Int8Array(0);
    let weightsTimeData: Int8Array | Int16Array = new Int8Array(0);
    let biasData: Int32Array | null = null;
    let stateData: Int8Array | Int16Array = new Int8Array(0);
    let outputData: Int8Array = new Int8Array(0);

    return {
      macs: batches * filters * (inputSize + memorySize),
      bind(memory: MemoryContext): void {
        inputData = memory.int8(inputIndex);
        centeredInput = memory.scratchInt32(scratch, inputSize);
        weightsFeatureData = memory.int8(weightsFeatureIndex);
        weightsTimeData = stateIsInt16 ? memory.int16(weightsTimeIndex) : memory.int8(weightsTimeIndex);
        biasData = biasIndex >= 0 ? memory.int32(biasIndex) : null;
        stateData = stateIsInt16 ? memory.int16(stateIndex) : memory.int8(stateIndex);
        outputData = memory.int8(outputIndex);
      },
      invoke(): void {
        const inputs = inputData;
        const centered = centeredInput;
        const weightsFeature = weightsFeatureData;
        const weightsTime = weightsTimeData;
        const biases = biasData;
        const states = stateData;
        const out = outputData;

        // Element 0 falls off. The element that moves into each newest slot,
        // another filter's oldest value, is overwritten below.
        states.copyWithin(0, 1);

        for (let batch = 0; batch < batches; batch++) {
          const inputBase = batch * inputSize;
          for (let i = 0; i < inputSize; i++) centered[i] = inputs[inputBase + i] - inputZeroPoint;

          // Feature products. Each term is at most 128 * 255 in magnitude,
          // so the sum fits int32 for up to 65793 inputs. Beyond that the
          // double sum stays exact, and `| 0` wraps it as TFLM's int32 sum does.
          const stateBase = batch * stateBatchStride;
          let filter = 0;
          // Four filters at a time share each load of the centered input,
          // which cut the XS meter count of keyword_scrambled_8bit's first
          // SVDF from 253k to 161k (`microq bench --engine xs --per-op`).
          for (; filter + 4 <= filters; filter += 4) {
            const row0 = filter * inputSize;
            const row1 = row0 + inputSize;
            const row2 = row1 + inputSize;
            const row3 = row2 + inputSize;
            let dot0 = 0;
            let dot1 = 0;
            let dot2 = 0;
            let dot3 = 0;
            for (let i = 0; i < inputSize; i++) {
              const x = centered[i];
              dot0 += weightsFeature[row0 + i] * x;
              dot1 += weightsFeature[row1 + i] * x;
              dot2 += weightsFeature[row2 + i] * x;
              dot3 += weightsFeature[row3 + i] * x;
            }
            storeFeature(states, stateBase + filter * memorySize + newestSlot, dot0);
            storeFeature(states, stateBase + (filter + 1) * memorySize + newestSlot, dot1);
            storeFeature(states, stateBase + (filter + 2) * memorySize + newestSlot, dot2);
            storeFeature(states, stateBase + (filter + 3) * memorySize + newestSlot, dot3);
          }
          for (; filter < filters; filter++) {
            const row = filter * inputSize;
            let dot = 0;
            for (let i = 0; i < inputSize; i++) dot += weightsFeature[row + i] * centered[i];
            storeFeature(states, stateBase + filter * memorySize + newestSlot, dot);
          }

          // Time products. A term is an int16 weight times a difference of
          // at most 65535, below 2^31 in magnitude. So one filter's sum over
          // at most MAX_MEMORY_SIZE slots is exact in double, and `| 0` after
          // each filter wraps the running sum modulo 2^32 as TFLM's int32
          // scratch does.
          const outputBase = batch * units;
          for (let unit = 0; unit < units; unit++) {
            let sum = biases === null ? 0 : biases[unit];
            const unitBase = unit * unitStride;
            for (let r = 0; r < rank; r++) {
              const filterBase = unitBase + r * memorySize;
              const stateRow = stateBase + filterBase;
              let dot = 0;
              for (let slot = 0; slot < memorySize; slot++) {
                dot += weightsTime[filterBase + slot] * (states[stateRow + slot] - stateZeroPoint);
              }
              sum = (sum + (dot | 0)) | 0;
            }
            let value = multiplyByQuantizedMultiplier(sum, timeMultiplier, timeShift) + outputZeroPoint;
            if (value < -128) value = -128;
            if (value > 127) value = 127;
            out[outputBase + unit] = value;
          }
        }
      },
    };
  },
};

interface SvdfGeometry {
  batches: number;
  inputSize: number;
  filters: number;
  units: number;
  rank: number;
  memorySize: number;
}

/** Checks the shapes TFLM's PrepareSvdf checks and returns the operator's dimensions. */
function checkShapes(
  context: PrepareContext,
  op: OperatorDef,
  input: TensorDef,
  weightsFeature: TensorDef,
  weightsTime: TensorDef,
  bias: TensorDef | null,
  state: TensorDef,
  output: TensorDef,
): SvdfGeometry {
  checkRank(op, input, "input", 2);
  checkRank(op, weightsFeature, "weights_feature", 2);
  checkRank(op, weightsTime, "weights_time", 2);
  const [batches, inputSize] = input.shape;
  const filters = weightsFeature.shape[0];
  const memorySize = weightsTime.shape[1];

  const rank = readSvdfOptions(context.reader, op).rank;
  if (!(rank > 0) || filters % rank !== 0) {
    throw new InvalidModelError(
      `operator ${op.index} (SVDF) has rank ${rank} with ${filters} filters in weights_feature ` +
        `${describeTensor(weightsFeature)}; the rank must be positive and divide the filter count, so the file is corrupted`,
    );
  }
  if (memorySize < 1) {
    throw new InvalidModelError(
      `operator ${op.index} (SVDF): weights_time ${describeTensor(weightsTime)} has shape [${weightsTime.shape}], ` +
        `expected a memory size of at least 1; the file is corrupted`,
    );
  }
  if (memorySize > MAX_MEMORY_SIZE) {
    throw new UnsupportedError(
      `operator ${op.index} (SVDF): weights_time ${describeTensor(weightsTime)} has memory size ${memorySize}; ` +
        `this kernel supports at most ${MAX_MEMORY_SIZE}, where one filter's time sum stays exact in double`,
    );
  }
  const units = filters / rank;

  checkShape(op, weightsFeature, "weights_feature", [filters, inputSize]);
  checkShape(op, weightsTime, "weights_time", [filters, memorySize]);
  checkShape(op, state, "activation state", [batches, memorySize * filters]);
  checkShape(op, output, "output", [batches, units]);
  if (bias !== null) checkShape(op, bias, "bias", [units]);
  return { batches, inputSize, filters, units, rank, memorySize };
}

/** Rejects a nonzero weight zero point: TFLM's SVDF ignores it, so the result would not be the converter's intent. */
function checkSymmetricWeights(op: OperatorDef, weights: TensorDef, role: string): void {
  const zeroPoint = weights.zeroPoint.length > 0 ? weights.zeroPoint[0] : 0;
  if (zeroPoint !== 0) {
    throw new UnsupportedError(
      `${role} ${describeTensor(weights)} of operator ${op.index} (SVDF) has zero point ${zeroPoint}; ` +
        `integer SVDF needs symmetric weights (zero point 0)`,
    );
  }
}
