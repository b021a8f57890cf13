// QUANTIZE requantization on the XS engine through the rollup bundle. For
// every integer type pair TFLM requantizes, one model has five QUANTIZE
// operators, with rescale factors from flushed-to-zero to large left shifts
// and zero points that make the int32 arithmetic wrap. Each must give the
// integers of the BigInt Requantize reference for every 8- and 16-bit input
// value and for int32 extremes.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { TensorType, tensorTypeName } from "../../runtime/tensor_types.js";
import { ModelSpec, OperatorSpec, TensorSpec, TensorTypeName, writeModel } from "../../tools/tflite/writer.js";
import { runModelOnXs } from "../../tools/xs/engine.js";
import { quantizeMultiplierReference } from "../requantization/tflite_reference.js";
import { TFLM_INTEGER_PAIRS, TYPE_RANGES, integerInputValues, referenceRequantize } from "./quantize_reference.js";

const ARRAYS = {
  [TensorType.INT8]: Int8Array,
  [TensorType.UINT8]: Uint8Array,
  [TensorType.INT16]: Int16Array,
  [TensorType.INT32]: Int32Array,
} as const;

type IntegerType = keyof typeof ARRAYS;

/** One QUANTIZE operator of a test model: the rescale factor and the zero points. */
interface Requantization {
  ratio: number;
  inputZeroPoint: number;
  outputZeroPoint: number;
}

function requantizations(inputType: number, outputType: number): Requantization[] {
  const [inMin, inMax] = TYPE_RANGES[inputType];
  const [outMin, outMax] = TYPE_RANGES[outputType];
  return [
    { ratio: 0.37, inputZeroPoint: 0, outputZeroPoint: 0 },
    { ratio: 1, inputZeroPoint: inMin === 0 ? 128 : -3, outputZeroPoint: outMin === 0 ? 120 : 5 },
    { ratio: 3317.25, inputZeroPoint: inMax, outputZeroPoint: outMin },
    { ratio: 1e-7, inputZeroPoint: inMin, outputZeroPoint: outMax },
    { ratio: 2 ** -40, inputZeroPoint: 1, outputZeroPoint: outMin === 0 ? 1 : -1 },
  ];
}

const OUTPUT_SCALE = Math.fround(0.02);

/** Builds a model whose operator k requantizes input k into output k. */
function buildModel(inputType: IntegerType, outputType: IntegerType, count: number, operators: readonly Requantization[]): ModelSpec {
  const tensors: TensorSpec[] = [];
  const ops: OperatorSpec[] = [];
  operators.forEach((r, k) => {
    tensors.push({
      name: `in${k}`,
      type: tensorTypeName(inputType) as TensorTypeName,
      shape: [count],
      scale: [Math.fround(OUTPUT_SCALE * r.ratio)],
      zeroPoint: [r.inputZeroPoint],
    });
    tensors.push({ name: `out${k}`, type: tensorTypeName(outputType) as TensorTypeName, shape: [count], scale: [OUTPUT_SCALE], zeroPoint: [r.outputZeroPoint] });
    ops.push({ op: "QUANTIZE", inputs: [2 * k], outputs: [2 * k + 1] });
  });
  return {
    tensors,
    operators: ops,
    inputs: operators.map((_, k) => 2 * k),
    outputs: operators.map((_, k) => 2 * k + 1),
  };
}

for (const [inputType, outputType] of TFLM_INTEGER_PAIRS as ReadonlyArray<[IntegerType, IntegerType]>) {
  test(`quantize ${tensorTypeName(inputType)} to ${tensorTypeName(outputType)} on XS`, async () => {
    const values = integerInputValues(inputType, 0x5eed + inputType);
    const operators = requantizations(inputType, outputType);
    const spec = buildModel(inputType, outputType, values.length, operators);
    const inputBytes = new Uint8Array(ARRAYS[inputType].from(values).buffer);
    const result = await runModelOnXs({ model: writeModel(spec), inputs: operators.map(() => inputBytes) });

    operators.forEach((r, k) => {
      const inputScale = spec.tensors[2 * k].scale![0];
      const multiplier = quantizeMultiplierReference(inputScale / OUTPUT_SCALE, false);
      assert.ok(multiplier, `ratio ${r.ratio} has a shift of at most 30`);
      const bytes = result.outputs[k];
      const actual = new ARRAYS[outputType](bytes.buffer as ArrayBuffer, bytes.byteOffset, values.length);
      const c = { outputType, inputZeroPoint: r.inputZeroPoint, outputZeroPoint: r.outputZeroPoint };
      for (let i = 0; i < values.length; i++) {
        const expected = referenceRequantize(values[i], c, multiplier);
        if (actual[i] !== expected) assert.is(actual[i], expected, `ratio ${r.ratio}, input ${values[i]}`);
      }
    });
  });
}

test.run();
