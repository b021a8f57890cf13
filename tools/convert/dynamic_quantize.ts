// Recognition of DynamicQuantizeLinear written out as its ONNX function
// body (as the *_expanded backend tests and some exporters store it):
//
//   x_min   = Min(ReduceMin(x, keepdims=0), 0)     x_max = Max(ReduceMax(x, keepdims=0), 0)
//   scale   = (x_max - x_min) / 255
//   zero    = Cast<uint8>(Round(Clip(0 - x_min / scale, 0, 255)))
//   y       = QuantizeLinear(x, scale, zero)
//
// The matched nodes are replaced by one DynamicQuantizeLinear node with
// outputs (y, scale, zero), which lowering turns into the custom operator.

import { GraphNode, OnnxGraph, attributeInt } from "./graph.js";

const UINT8_CODE = 2;

/** Replaces every expanded DynamicQuantizeLinear body in the graph; returns how many were replaced. */
export function foldExpandedDynamicQuantize(graph: OnnxGraph): number {
  let replaced = 0;
  for (;;) {
    const match = findExpandedDynamicQuantize(graph);
    if (match === undefined) return replaced;
    const first = Math.min(...[...match.nodes].map((node) => graph.nodes.indexOf(node)));
    const fused: GraphNode = {
      opType: "DynamicQuantizeLinear",
      domain: "",
      name: match.quantize.name,
      inputs: [match.input],
      outputs: [match.quantize.outputs[0], match.scale, match.zeroPoint],
      attributes: new Map(),
      index: match.quantize.index,
    };
    const remaining = graph.nodes.filter((node) => !match.nodes.has(node));
    remaining.splice(first, 0, fused);
    graph.nodes = remaining;
    replaced++;
  }
}

interface Match {
  quantize: GraphNode;
  input: string;
  scale: string;
  zeroPoint: string;
  nodes: Set<GraphNode>;
}

function findExpandedDynamicQuantize(graph: OnnxGraph): Match | undefined {
  const producers = new Map<string, GraphNode>();
  const useCounts = new Map<string, number>();
  for (const node of graph.nodes) {
    for (const output of node.outputs) producers.set(output, node);
    for (const input of node.inputs) useCounts.set(input, (useCounts.get(input) ?? 0) + 1);
  }
  for (const output of graph.outputs) useCounts.set(output.name, (useCounts.get(output.name) ?? 0) + 1);

  for (const node of graph.nodes) {
    if (node.opType !== "QuantizeLinear" || node.domain !== "" || graph.constants.has(node.inputs[1])) continue;
    const match = matchAt(graph, producers, node);
    if (match === undefined) continue;
    // Every intermediate value must be read only inside the pattern; scale and zero point may also be read outside.
    const internalUses = new Map<string, number>();
    for (const member of match.nodes) for (const input of member.inputs) internalUses.set(input, (internalUses.get(input) ?? 0) + 1);
    const escapes = [...match.nodes].some((member) =>
      member !== node &&
      member.outputs.some((output) => output !== match.scale && output !== match.zeroPoint && (useCounts.get(output) ?? 0) !== (internalUses.get(output) ?? 0)),
    );
    if (!escapes) return match;
  }
  return undefined;
}

function matchAt(graph: OnnxGraph, producers: Map<string, GraphNode>, quantize: GraphNode): Match | undefined {
  const nodes = new Set<GraphNode>([quantize]);
  const [x, scale, zeroPoint] = quantize.inputs;
  const isConstant = (name: string, value: number): boolean => {
    const tensor = graph.constants.get(name);
    return tensor !== undefined && tensor.values.length === 1 && tensor.values[0] === value;
  };
  const produced = (name: string | undefined, opType: string): GraphNode | undefined => {
    const node = name === undefined ? undefined : producers.get(name);
    if (node === undefined || node.opType !== opType || node.domain !== "") return undefined;
    nodes.add(node);
    return node;
  };
  /** Matches op(reduce(x), 0) in either operand order; returns the output name of op. */
  const clampedExtreme = (name: string, opType: string, reduceType: string): boolean => {
    const node = produced(name, opType);
    if (node === undefined || node.inputs.length !== 2) return false;
    const [first, second] = node.inputs;
    const reduced = isConstant(second, 0) ? first : isConstant(first, 0) ? second : undefined;
    const reduce = produced(reduced, reduceType);
    return reduce !== undefined && reduce.inputs[0] === x && reduce.inputs.length === 1 && attributeInt(reduce, "keepdims", 1) === 0;
  };

  // scale = (x_max - x_min) / 255
  const divide = produced(scale, "Div");
  if (divide === undefined || !isConstant(divide.inputs[1], 255)) return undefined;
  const range = produced(divide.inputs[0], "Sub");
  if (range === undefined) return undefined;
  const [maxName, minName] = range.inputs;
  if (!clampedExtreme(maxName, "Max", "ReduceMax") || !clampedExtreme(minName, "Min", "ReduceMin")) return undefined;

  // zero = Cast<uint8>(Round(Clip(0 - x_min / scale, 0, 255)))
  const cast = produced(zeroPoint, "Cast");
  if (cast === undefined || attributeInt(cast, "to", -1) !== UINT8_CODE) return undefined;
  const round = produced(cast.inputs[0], "Round");
  const clip = produced(round?.inputs[0], "Clip");
  if (clip === undefined || !isConstant(clip.inputs[1], 0) || !isConstant(clip.inputs[2], 255)) return undefined;
  const negate = produced(clip.inputs[0], "Sub");
  if (negate === undefined || !isConstant(negate.inputs[0], 0)) return undefined;
  const scaledMin = produced(negate.inputs[1], "Div");
  if (scaledMin === undefined || scaledMin.inputs[0] !== minName || scaledMin.inputs[1] !== scale) return undefined;

  return { quantize, input: x, scale, zeroPoint, nodes };
}
