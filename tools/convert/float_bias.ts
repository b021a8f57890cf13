// PyTorch's float bias for conv and fully connected layers (the floatBias
// option, --float-bias on the command line).
//
// torch.onnx 1.13 exports the bias b of a quantized conv or linear module
// as int32 trunc(b / fl(sx * sw)), rounded toward zero, whereas PyTorch's
// qnnpack engine rounds that quotient to nearest and its onednn engine adds
// b in float. A model converted from the .onnx alone can therefore differ
// from PyTorch by 1 in some outputs. With the float bias the converter
// writes b itself, as a float32 tensor in real units, and each scheme
// treats it as its engine treats PyTorch's bias.
//
// Keys name a layer by PyTorch module name or by exact ONNX node name.
// torch.onnx (1.13 and later) names a node after the scopes of the modules
// that produced it: "/conv1/Conv" for module "conv1", and
// "/layer1/layer1.0/conv1/Conv" for module "layer1.0.conv1", where a scope
// under a numbered child repeats its parent's name ("layer1.0").

import { GraphNode, describeNode } from "./graph.js";
import { ConvertOptionError } from "./options.js";

/** A float bias from the option, with the key it was given under. */
export interface FloatBias {
  key: string;
  values: Float32Array;
}

/** ONNX op types of the layers a float bias can name, with the index of their bias input (undefined: the op has none). */
const ACCUMULATOR_BIAS_INPUTS: ReadonlyMap<string, number | undefined> = new Map([
  ["Conv", 2],
  ["Gemm", 2],
  ["QLinearConv", 8],
  ["MatMul", undefined],
  ["QLinearMatMul", undefined],
  ["ConvInteger", undefined],
  ["MatMulInteger", undefined],
]);

/**
 * Returns the PyTorch module name of a node that torch.onnx named after its
 * module scopes ("/features/features.0/Conv" gives "features.0"), or
 * undefined for a name without scopes. A scope "features.0" under
 * "features" is the child "0"; a plain "/features/0/Conv" gives the same
 * name.
 */
export function moduleNameOfNode(nodeName: string): string | undefined {
  const scopes = nodeName.split("/");
  // scopes[0] is the root module's empty name and the last entry is the op ("Conv", "Gemm_1").
  if (scopes.length < 3 || scopes[0] !== "") return undefined;
  const path: string[] = [];
  let previous = "";
  for (const scope of scopes.slice(1, -1)) {
    if (scope === "") return undefined;
    const child = previous !== "" && scope.startsWith(`${previous}.`) ? scope.slice(previous.length + 1) : scope;
    path.push(child);
    previous = scope;
  }
  return path.join(".");
}

/**
 * Assigns each float bias to the layer nodes its key names. Throws
 * ConvertOptionError for keys that name no conv, Gemm or MatMul layer
 * (listing the layers found), for a key that names a layer without a bias,
 * and for a layer that two keys name.
 */
export function matchFloatBias(nodes: readonly GraphNode[], floatBias: ReadonlyMap<string, Float32Array>): Map<GraphNode, FloatBias> {
  const matched = new Map<GraphNode, FloatBias>();
  if (floatBias.size === 0) return matched;

  const layers = nodes.filter((node) => node.domain === "" && ACCUMULATOR_BIAS_INPUTS.has(node.opType));
  const unknown: string[] = [];
  for (const [key, values] of floatBias) {
    const named = layers.filter((node) => node.name === key || moduleNameOfNode(node.name) === key);
    if (named.length === 0) {
      unknown.push(key);
      continue;
    }
    for (const node of named) {
      if (!hasBias(node)) {
        throw new ConvertOptionError(`float bias "${key}" names ${describeNode(node)}, which has no bias input; remove "${key}" from the float bias`);
      }
      const earlier = matched.get(node);
      if (earlier !== undefined) {
        throw new ConvertOptionError(`float bias "${earlier.key}" and "${key}" both name ${describeNode(node)}; keep one of them`);
      }
      matched.set(node, { key, values });
    }
  }

  if (unknown.length > 0) {
    const names = unknown.map((key) => `"${key}"`).join(", ");
    const found = layers.length === 0 ? "the model has no Conv, Gemm or MatMul layer" : `its layers are ${layers.map(describeLayer).join(", ")}`;
    throw new ConvertOptionError(`float bias ${names} ${unknown.length === 1 ? "names" : "name"} no Conv, Gemm or MatMul layer of the model; ${found}`);
  }

  // A layer left out would keep the .onnx's rounded bias, so its outputs, and all that follow, would not be PyTorch's.
  const missing = layers.filter((node) => hasBias(node) && !matched.has(node));
  if (missing.length > 0) {
    throw new ConvertOptionError(
      `the float bias covers ${matched.size} of the ${matched.size + missing.length} layers with a bias; it lacks ${missing.map(describeLayer).join(", ")}. ` +
        "Add their biases (the file must cover every Conv and Gemm layer with a bias), or convert without a float bias",
    );
  }
  return matched;
}

function hasBias(node: GraphNode): boolean {
  const index = ACCUMULATOR_BIAS_INPUTS.get(node.opType);
  return index !== undefined && (node.inputs[index] ?? "") !== "";
}

/** Names a layer for the list of layers found: module name, node name and whether it has a bias. */
function describeLayer(node: GraphNode): string {
  const moduleName = moduleNameOfNode(node.name);
  const name = moduleName === undefined ? `node "${node.name}"` : `"${moduleName}" (node "${node.name}")`;
  return hasBias(node) ? name : `${name} without bias`;
}

/**
 * Checks the length of a float bias and compares it with the bias the .onnx
 * stores for the same layer: `exported(c)` is channel c's stored bias in
 * units of `unit(c)`, a real value per unit. torch.onnx truncates b / unit
 * and other exporters round it, so the stored value lies within 1 unit of
 * the float bias. A larger difference means the float bias belongs to
 * another model.
 */
export function checkFloatBias(
  node: GraphNode,
  floatBias: FloatBias,
  channels: number,
  exported: (channel: number) => number,
  unit: (channel: number) => number,
): void {
  const { key, values } = floatBias;
  if (values.length !== channels) {
    throw new ConvertOptionError(`float bias "${key}" has ${values.length} values, but ${describeNode(node)} has ${channels} output channels`);
  }
  for (let c = 0; c < channels; c++) {
    const quotient = values[c] / unit(c);
    const stored = exported(c);
    // The exporter divides in float32, which can move a large quotient by a few float32 ulps.
    const tolerance = 1 + Math.abs(quotient) * 2 ** -20;
    if (!(Math.abs(stored - quotient) <= tolerance)) {
      throw new ConvertOptionError(
        `float bias "${key}" channel ${c} is ${values[c]}, which is ${quotient} in units of the .onnx bias scale ${unit(c)}, ` +
          `but ${describeNode(node)} stores ${stored}; they differ by more than 1, so the float bias is not from the model this .onnx was exported from`,
      );
    }
  }
}
