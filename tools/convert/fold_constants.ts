// Convert-time evaluation of the nodes whose outputs are constants:
// Constant, ConstantOfShape, and Cast or Identity of a constant. torch.onnx
// writes every scale, zero point, weight and bias as a Constant node and
// builds bias zero points with ConstantOfShape and Cast, so after this pass
// they are all plain constants of the graph.

import {
  ConstantBudget,
  ConstantTensor,
  ElementType,
  GraphNode,
  ONNX_ELEMENT_TYPES,
  OnnxGraph,
  OnnxModelError,
  allocateValues,
  attributeInt,
  describeNode,
  elementCount,
} from "./graph.js";

/**
 * Evaluates constant nodes in graph order and removes them, so later nodes
 * see their outputs in graph.constants. A graph output that becomes a
 * constant this way is rejected later by the lowering, with its name. Each
 * new constant is counted against one ConstantBudget with the existing
 * constants, before its storage is allocated.
 */
export function foldConstants(graph: OnnxGraph): void {
  const budget = new ConstantBudget();
  budget.addStored(graph.constants.values());
  const remaining: GraphNode[] = [];
  graph.nodes.forEach((node) => {
    const value = evaluateConstantNode(graph, node, budget);
    if (value === undefined) {
      remaining.push(node);
      return;
    }
    graph.constants.set(node.outputs[0], value);
  });
  graph.nodes = remaining;
}

/** Returns the node's output when it is computable now, else undefined. */
function evaluateConstantNode(graph: OnnxGraph, node: GraphNode, budget: ConstantBudget): ConstantTensor | undefined {
  if (node.domain !== "") return undefined;
  const what = describeNode(node);
  const constantInput = (i: number): ConstantTensor | undefined => graph.constants.get(node.inputs[i] ?? "");
  switch (node.opType) {
    case "Constant":
      return constantAttribute(node, what);
    case "ConstantOfShape": {
      const shape = constantInput(0);
      return shape === undefined ? undefined : constantOfShape(node, shape, what, budget);
    }
    case "Cast": {
      const input = constantInput(0);
      return input === undefined ? undefined : castTensor(input, castTarget(node, what), what, budget);
    }
    case "Identity":
      return constantInput(0);
    default:
      return undefined;
  }
}

function constantAttribute(node: GraphNode, what: string): ConstantTensor {
  if (node.attributes.size !== 1) {
    throw new OnnxModelError(`${what} must have exactly one value attribute, found ${[...node.attributes.keys()].join(", ") || "none"}`);
  }
  const [name, attribute] = [...node.attributes.entries()][0];
  switch (name) {
    case "value":
      if (attribute.type === "tensor") return attribute.value;
      break;
    case "value_float":
      if (attribute.type === "float") return { type: "float32", dims: [], values: Float32Array.of(attribute.value) };
      break;
    case "value_floats":
      if (attribute.type === "floats") return { type: "float32", dims: [attribute.value.length], values: Float32Array.from(attribute.value) };
      break;
    case "value_int":
      if (attribute.type === "int") return { type: "int64", dims: [], values: Float64Array.of(attribute.value) };
      break;
    case "value_ints":
      if (attribute.type === "ints") return { type: "int64", dims: [attribute.value.length], values: Float64Array.from(attribute.value) };
      break;
  }
  throw new OnnxModelError(`${what}: value attribute "${name}" of kind ${attribute.type} is not supported; use value, value_float(s) or value_int(s)`);
}

function constantOfShape(node: GraphNode, shape: ConstantTensor, what: string, budget: ConstantBudget): ConstantTensor {
  if (shape.type !== "int64" || shape.dims.length !== 1) {
    throw new OnnxModelError(`${what}: the shape input must be a 1-D int64 tensor, got ${shape.type} [${shape.dims}]`);
  }
  const dims = Array.from(shape.values);
  const attribute = node.attributes.get("value");
  let fill: ConstantTensor = { type: "float32", dims: [1], values: Float32Array.of(0) };
  if (attribute !== undefined) {
    if (attribute.type !== "tensor" || elementCount(attribute.value.dims) !== 1) {
      throw new OnnxModelError(`${what}: attribute "value" must be a one-element tensor`);
    }
    fill = attribute.value;
  }
  const count = budget.reserve(fill.type, dims, `${what} output "${node.outputs[0]}"`);
  const values = allocateValues(fill.type, count);
  values.fill(fill.values[0]);
  return { type: fill.type, dims, values };
}

function castTarget(node: GraphNode, what: string): ElementType {
  const code = attributeInt(node, "to", -1);
  const type = ONNX_ELEMENT_TYPES[code];
  if (type === undefined) throw new OnnxModelError(`${what}: attribute "to" is ${code}, not a data type the converter knows`);
  return type;
}

/**
 * ONNX Cast of a constant. Float to integer truncates toward zero; values
 * outside the target range wrap as typed-array stores do (ONNX leaves that
 * case undefined). Integer to float rounds to the nearest float32.
 */
export function castTensor(input: ConstantTensor, type: ElementType, what: string, budget = new ConstantBudget()): ConstantTensor {
  budget.reserve(type, input.dims, `${what} output`);
  let values;
  try {
    values = allocateValues(type, input.values.length);
  } catch {
    throw new OnnxModelError(`${what}: Cast to ${type} is not supported at convert time`);
  }
  const fromFloat = input.type === "float32" || input.type === "float64";
  for (let i = 0; i < values.length; i++) {
    const value = input.values[i];
    if (type === "bool") values[i] = value !== 0 ? 1 : 0;
    else if (type === "int64" || type === "uint64") values[i] = Math.trunc(value);
    else if (fromFloat && type !== "float32" && type !== "float64") values[i] = Number.isFinite(value) ? Math.trunc(value) : 0;
    else values[i] = value;
  }
  return { type, dims: [...input.dims], values };
}
