// Post-training int8 quantization of a float ONNX graph. The float graph is
// evaluated on calibration inputs to find the range of every activation.
// It is then rewritten into QDQ form with int8 asymmetric activations
// (TFLite's rule), int8 symmetric per-channel weights and int32 biases in
// units of input scale times weight scale. The QDQ lowering folds the result
// into int8 operators like any QDQ model. The model's input and outputs
// become int8 tensors, as in the int8 models of TFLite Micro's examples.

import { ConstantTensor, GraphNode, OnnxGraph, OnnxModelError, UnsupportedNodeError, attributeFloat, attributeInt, describeNode, elementCount } from "./graph.js";
import { normalizeAxis } from "./layout.js";
import { roundHalfToEven } from "./values.js";

/** ONNX op types that post-training quantization evaluates and rewrites. */
export const POST_TRAINING_OP_TYPES: readonly string[] = ["Gemm", "MatMul", "Add", "Relu", "Flatten", "Reshape", "Identity"];

/** Range of int8 activations and of the symmetric int8 weights (-127 to 127, as TFLite keeps -128 unused in weights). */
const INT8_MIN = -128;
const INT8_MAX = 127;
const WEIGHT_MAX = 127;

/** A float value during calibration: its ONNX dimensions and float32 elements. */
interface FloatValue {
  dims: number[];
  values: Float32Array;
}

/** Observed range of one activation over all calibration inputs. */
interface Range {
  min: number;
  max: number;
}

/** Scale and zero point of an int8 activation. */
export interface ActivationParams {
  scale: number;
  zeroPoint: number;
}

/**
 * Chooses int8 asymmetric parameters for the real range [min, max] by the
 * rule of gemmlowp's and TFLite's ChooseQuantizationParams: the range is
 * widened to include 0, scale = (max - min) / 255, and the zero point is
 * solved from whichever end, min or max, gives the smaller rounding error,
 * then rounded half away from zero and clamped to [-128, 127], so that 0 is
 * exactly representable. A range of [0, 0] gets scale 1 and zero point 0
 * (TFLite leaves the scale 0 there, which no kernel accepts).
 */
export function chooseActivationParams(min: number, max: number): ActivationParams {
  const low = Math.min(min, 0);
  const high = Math.max(max, 0);
  if (high === low) return { scale: 1, zeroPoint: 0 };
  const scale = (high - low) / (INT8_MAX - INT8_MIN);
  const zeroPointFromMin = INT8_MIN - low / scale;
  const zeroPointFromMax = INT8_MAX - high / scale;
  const errorFromMin = Math.abs(INT8_MIN) + Math.abs(low / scale);
  const errorFromMax = Math.abs(INT8_MAX) + Math.abs(high / scale);
  const zeroPoint = errorFromMin < errorFromMax ? zeroPointFromMin : zeroPointFromMax;
  let nudged: number;
  if (zeroPoint < INT8_MIN) nudged = INT8_MIN;
  else if (zeroPoint > INT8_MAX) nudged = INT8_MAX;
  else nudged = Math.sign(zeroPoint) * Math.round(Math.abs(zeroPoint));
  return { scale: Math.fround(scale), zeroPoint: nudged === 0 ? 0 : nudged };
}

/**
 * Quantizes a float graph in place to QDQ form with int8 activations, from
 * `calibration`: a whole number of inputs of the graph's one input, each in
 * ONNX element order, concatenated. A symbolic input dimension (the batch)
 * counts as 1. Throws OnnxModelError when the graph or calibration data do
 * not fit, and UnsupportedNodeError for a node it cannot quantize.
 */
export function quantizeFloatGraph(graph: OnnxGraph, calibration: Float32Array): void {
  if (graph.inputs.length !== 1) {
    throw new OnnxModelError(`post-training quantization needs a graph with one input, but "${graph.name}" has ${graph.inputs.length}`);
  }
  const input = graph.inputs[0];
  if (input.type !== "float32") {
    throw new OnnxModelError(`graph input "${input.name}" is ${input.type ?? "of unknown type"}; post-training quantization needs a float32 model`);
  }
  if (input.shape === undefined || input.shape.some((dimension) => dimension === undefined)) {
    throw new OnnxModelError(`graph input "${input.name}" has no complete shape; export the model with input shapes`);
  }
  const inputDims = input.shape.map((dimension) => (typeof dimension === "number" ? dimension : 1));
  const inputElements = elementCount(inputDims);
  if (inputElements === 0) throw new OnnxModelError(`graph input "${input.name}" has shape [${inputDims}] with no elements`);
  if (calibration.length === 0 || calibration.length % inputElements !== 0) {
    throw new OnnxModelError(
      `the calibration data has ${calibration.length} float32 values, which is not a positive multiple of the ${inputElements} elements ` +
        `of input "${input.name}" [${inputDims}]; write whole inputs as raw little-endian float32`,
    );
  }
  for (const node of graph.nodes) {
    if (node.domain !== "" || !POST_TRAINING_OP_TYPES.includes(node.opType)) {
      throw new UnsupportedNodeError(node, `post-training quantization supports ${POST_TRAINING_OP_TYPES.join(", ")} only`);
    }
  }
  for (let i = 0; i < calibration.length; i++) {
    if (!Number.isFinite(calibration[i])) {
      throw new OnnxModelError(`calibration value ${i} is ${calibration[i]}; calibration data must be finite float32 numbers`);
    }
  }

  const ranges = calibrate(graph, inputDims, calibration);
  rewriteToQdq(graph, ranges);
}

// Calibration.

/** Evaluates the graph on every calibration input and returns the range of every float value it computes, the graph input included. */
function calibrate(graph: OnnxGraph, inputDims: number[], calibration: Float32Array): Map<string, Range> {
  const ranges = new Map<string, Range>();
  const inputElements = elementCount(inputDims);
  const record = (name: string, value: FloatValue): void => {
    let range = ranges.get(name);
    if (range === undefined) {
      range = { min: Infinity, max: -Infinity };
      ranges.set(name, range);
    }
    for (const element of value.values) {
      if (!Number.isFinite(element)) throw new OnnxModelError(`value "${name}" became ${element} on the calibration data; the float model overflows`);
      if (element < range.min) range.min = element;
      if (element > range.max) range.max = element;
    }
  };

  for (let offset = 0; offset < calibration.length; offset += inputElements) {
    const values = new Map<string, FloatValue>();
    const inputValue = { dims: inputDims, values: calibration.subarray(offset, offset + inputElements) };
    values.set(graph.inputs[0].name, inputValue);
    record(graph.inputs[0].name, inputValue);
    for (const node of graph.nodes) {
      const output = evaluateNode(graph, node, values);
      values.set(node.outputs[0], output);
      record(node.outputs[0], output);
    }
  }
  return ranges;
}

/** Returns a float input of a node: a computed value or a float32 constant. */
function floatInput(graph: OnnxGraph, node: GraphNode, values: Map<string, FloatValue>, inputIndex: number): FloatValue {
  const name = node.inputs[inputIndex];
  if (name === undefined || name === "") throw new UnsupportedNodeError(node, `input ${inputIndex} is missing`);
  const value = values.get(name);
  if (value !== undefined) return value;
  const constant = graph.constants.get(name);
  if (constant === undefined) throw new OnnxModelError(`${describeNode(node)}: input "${name}" is not produced by any earlier node, initializer or graph input`);
  if (constant.type !== "float32") throw new UnsupportedNodeError(node, `input "${name}" is a ${constant.type} constant; post-training quantization needs float32`);
  return { dims: constant.dims, values: constant.values as Float32Array };
}

/** Evaluates one node in float32 (products summed in double, each result rounded to float32). */
function evaluateNode(graph: OnnxGraph, node: GraphNode, values: Map<string, FloatValue>): FloatValue {
  const x = floatInput(graph, node, values, 0);
  switch (node.opType) {
    case "Gemm": {
      if (attributeInt(node, "transA", 0) !== 0) throw new UnsupportedNodeError(node, "transA 1 is not supported; only B may be transposed");
      if (attributeFloat(node, "alpha", 1) !== 1 || attributeFloat(node, "beta", 1) !== 1) throw new UnsupportedNodeError(node, "alpha and beta must be 1");
      const b = constantWeights(graph, node, 1);
      const bias = node.inputs[2] === undefined || node.inputs[2] === "" ? undefined : constantWeights(graph, node, 2);
      return matrixProduct(node, x, b, attributeInt(node, "transB", 0) !== 0, bias);
    }
    case "MatMul":
      return matrixProduct(node, x, constantWeights(graph, node, 1), false, undefined);
    case "Add":
      return add(node, x, floatInput(graph, node, values, 1));
    case "Relu":
      return { dims: x.dims, values: x.values.map((element) => (element > 0 ? element : 0)) };
    case "Identity":
      return x;
    case "Flatten": {
      const axis = normalizeOrReject(node, attributeInt(node, "axis", 1), x.dims.length + 1);
      return { dims: [elementCount(x.dims.slice(0, axis)), elementCount(x.dims.slice(axis))], values: x.values };
    }
    case "Reshape":
      return { dims: reshapeDims(graph, node, x.dims), values: x.values };
    default:
      throw new UnsupportedNodeError(node, `post-training quantization supports ${POST_TRAINING_OP_TYPES.join(", ")} only`);
  }
}

function normalizeOrReject(node: GraphNode, axis: number, rank: number): number {
  try {
    return normalizeAxis(axis, rank);
  } catch {
    throw new UnsupportedNodeError(node, `axis ${axis} is outside the ${rank} axes of its input`);
  }
}

/** Returns a float32 constant input (weights or bias), which post-training quantization needs to be an initializer. */
function constantWeights(graph: OnnxGraph, node: GraphNode, inputIndex: number): ConstantTensor {
  const name = node.inputs[inputIndex];
  const constant = name === undefined ? undefined : graph.constants.get(name);
  if (constant === undefined || constant.type !== "float32") {
    throw new UnsupportedNodeError(node, `input ${inputIndex} ("${name}") must be a float32 initializer for post-training quantization`);
  }
  return constant;
}

/** x [..., K] times B ([K, N], or [N, K] when transposed), plus an optional bias of N values. */
function matrixProduct(node: GraphNode, x: FloatValue, b: ConstantTensor, transposed: boolean, bias: ConstantTensor | undefined): FloatValue {
  if (b.dims.length !== 2) throw new UnsupportedNodeError(node, `weights have shape [${b.dims}]; a 2-D constant is needed`);
  const [depth, units] = transposed ? [b.dims[1], b.dims[0]] : b.dims;
  if (x.dims.length < 2 || x.dims[x.dims.length - 1] !== depth) {
    throw new UnsupportedNodeError(node, `input has shape [${x.dims}], but the weights [${b.dims}] expect ${depth} features in the last dimension`);
  }
  if (bias !== undefined && bias.values.length !== units) {
    throw new UnsupportedNodeError(node, `bias has ${bias.values.length} values for ${units} output units; only a bias of one value per unit is supported`);
  }
  const rows = x.values.length / depth;
  const output = new Float32Array(rows * units);
  for (let row = 0; row < rows; row++) {
    for (let unit = 0; unit < units; unit++) {
      let sum = bias === undefined ? 0 : bias.values[unit];
      for (let k = 0; k < depth; k++) {
        const weight = transposed ? b.values[unit * depth + k] : b.values[k * units + unit];
        sum += x.values[row * depth + k] * weight;
      }
      output[row * units + unit] = sum;
    }
  }
  return { dims: [...x.dims.slice(0, -1), units], values: output };
}

/** Elementwise sum with broadcasting between equal ranks, the case the QDQ lowering of Add supports. */
function add(node: GraphNode, a: FloatValue, b: FloatValue): FloatValue {
  if (a.dims.length !== b.dims.length) {
    throw new UnsupportedNodeError(node, `operands [${a.dims}] and [${b.dims}] have different ranks; broadcasting is supported between equal ranks only`);
  }
  const dims = a.dims.map((dimension, axis) => {
    if (dimension !== b.dims[axis] && dimension !== 1 && b.dims[axis] !== 1) throw new UnsupportedNodeError(node, `operands [${a.dims}] and [${b.dims}] do not broadcast`);
    return Math.max(dimension, b.dims[axis]);
  });
  const output = new Float32Array(elementCount(dims));
  const offsetOf = (operandDims: number[], index: number): number => {
    let offset = 0;
    let remainder = index;
    let stride = 1;
    for (let axis = dims.length - 1; axis >= 0; axis--) {
      const coordinate = remainder % dims[axis];
      remainder = Math.floor(remainder / dims[axis]);
      if (operandDims[axis] !== 1) offset += coordinate * stride;
      stride *= operandDims[axis];
    }
    return offset;
  };
  for (let i = 0; i < output.length; i++) output[i] = a.values[offsetOf(a.dims, i)] + b.values[offsetOf(b.dims, i)];
  return { dims, values: output };
}

/** Output dimensions of Reshape: 0 copies the input dimension (allowzero 0), -1 takes the rest. */
function reshapeDims(graph: OnnxGraph, node: GraphNode, inputDims: number[]): number[] {
  const shapeName = node.inputs[1];
  const shape = shapeName === undefined ? undefined : graph.constants.get(shapeName);
  if (shape === undefined) throw new UnsupportedNodeError(node, "shape (input 1) must be a constant");
  if (attributeInt(node, "allowzero", 0) !== 0) throw new UnsupportedNodeError(node, "allowzero 1 is not supported");
  const dims = Array.from(shape.values, (dimension, axis) => (dimension === 0 ? inputDims[axis] : dimension));
  const known = dims.filter((dimension) => dimension !== -1);
  const inferred = dims.length - known.length;
  const total = elementCount(inputDims);
  if (inferred > 1 || known.some((dimension) => !Number.isInteger(dimension) || dimension < 0)) {
    throw new UnsupportedNodeError(node, `shape [${Array.from(shape.values)}] is invalid`);
  }
  if (inferred === 1) {
    const rest = total / elementCount(known);
    if (!Number.isInteger(rest)) throw new UnsupportedNodeError(node, `shape [${Array.from(shape.values)}] does not fit an input of ${total} elements`);
    return dims.map((dimension) => (dimension === -1 ? rest : dimension));
  }
  if (elementCount(dims) !== total) throw new UnsupportedNodeError(node, `shape [${dims}] does not fit an input of ${total} elements`);
  return dims;
}

// Rewrite to QDQ form.

/**
 * Rewrites the graph in place. The graph input becomes int8 with a
 * DequantizeLinear after it; each quantized activation gets a
 * QuantizeLinear and DequantizeLinear after its producer; weights and
 * biases become integer constants behind a DequantizeLinear; each graph
 * output becomes the int8 output of a QuantizeLinear. A Relu that is the
 * only reader of a Gemm, MatMul or Add output shares that output's
 * quantization (no pair between them), so the lowering fuses it.
 * Flatten and Reshape keep their input's quantization.
 */
function rewriteToQdq(graph: OnnxGraph, ranges: Map<string, Range>): void {
  const readers = new Map<string, GraphNode[]>();
  for (const node of graph.nodes) {
    for (const name of node.inputs) {
      if (name === "") continue;
      const list = readers.get(name) ?? [];
      list.push(node);
      readers.set(name, list);
    }
  }
  const outputNames = new Set(graph.outputs.map((output) => output.name));
  const fusesIntoRelu = (node: GraphNode): boolean => {
    const list = readers.get(node.outputs[0]) ?? [];
    return list.length === 1 && list[0].opType === "Relu" && !outputNames.has(node.outputs[0]);
  };

  let counter = 0;
  const fresh = (base: string): string => `${base}/ptq${counter++}`;
  const addConstant = (base: string, tensor: ConstantTensor): string => {
    const name = fresh(base);
    graph.constants.set(name, tensor);
    return name;
  };
  const scalarParams = (base: string, params: ActivationParams): [string, string] => [
    addConstant(`${base}/scale`, { type: "float32", dims: [], values: Float32Array.of(params.scale) }),
    addConstant(`${base}/zero_point`, { type: "int8", dims: [], values: Int8Array.of(params.zeroPoint) }),
  ];
  const qdqNode = (opType: "QuantizeLinear" | "DequantizeLinear", input: string, output: string, params: [string, string], attributes = new Map()): GraphNode => ({
    opType,
    domain: "",
    name: fresh(opType),
    inputs: [input, ...params],
    outputs: [output],
    attributes,
  });

  // The quantization of every float value that is read through a QDQ pair.
  const paramsOf = new Map<string, ActivationParams>();
  const rangeOf = (name: string): Range => {
    const range = ranges.get(name);
    if (range === undefined) throw new OnnxModelError(`value "${name}" was not computed during calibration`);
    return range;
  };

  const nodes: GraphNode[] = [];
  const renames = new Map<string, string>();
  const renamed = (name: string): string => renames.get(name) ?? name;

  // Graph input: int8, dequantized for its readers.
  const input = graph.inputs[0];
  const inputParams = chooseActivationParams(rangeOf(input.name).min, rangeOf(input.name).max);
  paramsOf.set(input.name, inputParams);
  const inputFloat = fresh(`${input.name}/dequantized`);
  nodes.push(qdqNode("DequantizeLinear", input.name, inputFloat, scalarParams(input.name, inputParams)));
  renames.set(input.name, inputFloat);
  input.type = "int8";

  for (const node of graph.nodes) {
    const originalInputs = [...node.inputs];
    node.inputs = node.inputs.map(renamed);
    const outputName = node.outputs[0];
    let params: ActivationParams;

    switch (node.opType) {
      case "Gemm":
      case "MatMul":
        quantizeLayerConstants(graph, node, paramsOf.get(originalInputs[0]), addConstant, nodes, fresh);
        params = chooseRangeParams(fusesIntoRelu(node) ? rangeOf(readers.get(outputName)![0].outputs[0]) : rangeOf(outputName));
        break;
      case "Add":
        for (let i = 0; i < 2; i++) {
          const constant = graph.constants.get(originalInputs[i]);
          if (constant === undefined) continue;
          const constantParams = chooseRangeParams(rangeOfValues(constant.values));
          const quantized = addConstant(`${node.name || "Add"}/operand${i}`, quantizeTensor(constant, constantParams));
          const dequantized = fresh(`${node.name || "Add"}/operand${i}/dequantized`);
          nodes.push(qdqNode("DequantizeLinear", quantized, dequantized, scalarParams(dequantized, constantParams)));
          node.inputs[i] = dequantized;
        }
        params = chooseRangeParams(fusesIntoRelu(node) ? rangeOf(readers.get(outputName)![0].outputs[0]) : rangeOf(outputName));
        break;
      case "Relu": {
        const producer = graph.nodes.find((candidate) => candidate.outputs[0] === originalInputs[0]);
        if (producer === undefined || !["Gemm", "MatMul", "Add"].includes(producer.opType) || !fusesIntoRelu(producer)) {
          throw new UnsupportedNodeError(node, "post-training quantization supports Relu only as the one reader of a Gemm, MatMul or Add output, where it becomes the layer's fused activation");
        }
        // The producer was emitted without a QDQ pair: read its float output directly.
        node.inputs[0] = originalInputs[0];
        params = chooseRangeParams(rangeOf(outputName));
        break;
      }
      case "Flatten":
      case "Reshape":
      case "Identity": {
        const sourceParams = paramsOf.get(originalInputs[0]);
        if (sourceParams === undefined) {
          throw new UnsupportedNodeError(node, `input "${originalInputs[0]}" is not computed from the graph input; post-training quantization needs an activation there, not a constant`);
        }
        params = sourceParams;
        break;
      }
      default:
        throw new UnsupportedNodeError(node, `post-training quantization supports ${POST_TRAINING_OP_TYPES.join(", ")} only`);
    }
    nodes.push(node);
    paramsOf.set(outputName, params);
    if ((node.opType === "Gemm" || node.opType === "MatMul" || node.opType === "Add") && fusesIntoRelu(node)) continue;

    // The QuantizeLinear output keeps the value's name, which the int8 tensor of the model gets; readers read its DequantizeLinear.
    const floatName = fresh(`${outputName}/float`);
    node.outputs[0] = floatName;
    const qdqParams = scalarParams(outputName, params);
    nodes.push(qdqNode("QuantizeLinear", floatName, outputName, qdqParams));
    if ((readers.get(outputName) ?? []).length > 0) {
      const dequantized = fresh(`${outputName}/dequantized`);
      nodes.push(qdqNode("DequantizeLinear", outputName, dequantized, qdqParams));
      renames.set(outputName, dequantized);
    }
  }

  graph.nodes = nodes;
  for (const output of graph.outputs) output.type = "int8";
}

function chooseRangeParams(range: Range): ActivationParams {
  return chooseActivationParams(range.min, range.max);
}

function rangeOfValues(values: ArrayLike<number>): Range {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  return { min, max };
}

/** Quantizes float values to int8 with per-tensor asymmetric parameters, saturating. */
function quantizeTensor(tensor: ConstantTensor, params: ActivationParams): ConstantTensor {
  const values = new Int8Array(tensor.values.length);
  for (let i = 0; i < values.length; i++) {
    const q = roundHalfToEven(Math.fround(tensor.values[i] / params.scale)) + params.zeroPoint;
    values[i] = Math.min(INT8_MAX, Math.max(INT8_MIN, q));
  }
  return { type: "int8", dims: [...tensor.dims], values };
}

/** Per-channel symmetric int8 weights of a Gemm or MatMul, with the channel axis of its output units. */
export interface QuantizedWeights {
  values: Int8Array;
  /** float32 scale per output unit: max |w| / 127, or 1 for a channel of zeros. */
  scales: Float32Array;
  axis: number;
}

/**
 * Quantizes weights [K, N] (axis 1) or transposed [N, K] (axis 0) per output
 * unit, symmetric: scale = max |w| / 127 and q = round(w / scale), ties to
 * even, within [-127, 127].
 */
export function quantizeWeightsPerChannel(weights: ConstantTensor, axis: 0 | 1): QuantizedWeights {
  const [rows, columns] = weights.dims;
  const channels = axis === 0 ? rows : columns;
  const channelOf = (row: number, column: number): number => (axis === 0 ? row : column);
  const maxAbs = new Float64Array(channels);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const channel = channelOf(row, column);
      maxAbs[channel] = Math.max(maxAbs[channel], Math.abs(weights.values[row * columns + column]));
    }
  }
  const scales = Float32Array.from(maxAbs, (value) => (value === 0 ? 1 : value / WEIGHT_MAX));
  const values = new Int8Array(rows * columns);
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const q = roundHalfToEven(Math.fround(weights.values[row * columns + column] / scales[channelOf(row, column)]));
      values[row * columns + column] = Math.min(WEIGHT_MAX, Math.max(-WEIGHT_MAX, q));
    }
  }
  return { values, scales, axis };
}

/**
 * Replaces the float weights and bias of a Gemm or MatMul by int8 weights
 * and an int32 bias behind DequantizeLinear nodes, which are added to
 * `nodes`. The bias scale of unit c is float32(input scale x weight scale
 * c), the accumulator scale the lowering derives, so the bias integers are
 * written into the model as they are.
 */
function quantizeLayerConstants(
  graph: OnnxGraph,
  node: GraphNode,
  inputParams: ActivationParams | undefined,
  addConstant: (base: string, tensor: ConstantTensor) => string,
  nodes: GraphNode[],
  fresh: (base: string) => string,
): void {
  if (inputParams === undefined) {
    throw new UnsupportedNodeError(node, `input A ("${node.inputs[0]}") is not computed from the graph input; post-training quantization needs an activation there, not a constant`);
  }
  const base = node.name || node.opType;
  const weights = constantWeights(graph, node, 1);
  if (weights.dims.length !== 2) throw new UnsupportedNodeError(node, `weights have shape [${weights.dims}]; a 2-D constant is needed`);
  const transposed = node.opType === "Gemm" && attributeInt(node, "transB", 0) !== 0;
  const quantized = quantizeWeightsPerChannel(weights, transposed ? 0 : 1);
  const dequantize = (input: string, type: "int8" | "int32", scales: Float32Array, axis: number): string => {
    const output = fresh(`${input}/dequantized`);
    const scale = addConstant(`${input}/scale`, { type: "float32", dims: [scales.length], values: scales });
    const zeroPoint = addConstant(`${input}/zero_point`, { type, dims: [scales.length], values: type === "int8" ? new Int8Array(scales.length) : new Int32Array(scales.length) });
    nodes.push({ opType: "DequantizeLinear", domain: "", name: fresh("DequantizeLinear"), inputs: [input, scale, zeroPoint], outputs: [output], attributes: new Map([["axis", { type: "int", value: axis }]]) });
    return output;
  };
  const weightsName = addConstant(`${base}/weights`, { type: "int8", dims: [...weights.dims], values: quantized.values });
  node.inputs[1] = dequantize(weightsName, "int8", quantized.scales, quantized.axis);

  if (node.opType !== "Gemm" || node.inputs[2] === undefined || node.inputs[2] === "") return;
  const bias = constantWeights(graph, node, 2);
  const inputScale = Math.fround(inputParams.scale);
  const biasScales = Float32Array.from(quantized.scales, (weightScale) => Math.fround(inputScale * weightScale));
  const biasValues = new Int32Array(bias.values.length);
  for (let unit = 0; unit < bias.values.length; unit++) {
    const q = roundHalfToEven(bias.values[unit] / biasScales[unit]);
    if (!(Math.abs(q) <= 0x7fffffff)) {
      throw new UnsupportedNodeError(node, `bias ${bias.values[unit]} of unit ${unit} does not fit int32 in units of input scale times weight scale (${biasScales[unit]})`);
    }
    biasValues[unit] = q;
  }
  const biasName = addConstant(`${base}/bias`, { type: "int32", dims: [bias.values.length], values: biasValues });
  node.inputs[2] = dequantize(biasName, "int32", biasScales, 0);
}
