// The quantizedIo option (--quantized-io): the converted model takes and
// returns quantized integers instead of floats, as TFLite's converter does
// with inference_input_type and inference_output_type set to uint8 or int8.
//
// The rewrite works on the ONNX graph before lowering. A float graph input
// that only QuantizeLinear nodes read, all with one scale and zero point,
// becomes an input of their integer type. A DequantizeLinear of it, inserted
// first, gives the input tensor that quantization, so each QuantizeLinear
// becomes the identity and no QUANTIZE is emitted. A graph output that a
// DequantizeLinear produces becomes that node's integer input. The node turns
// into an Identity, so no DEQUANTIZE is emitted, and the output tensor keeps
// the quantization of the DequantizeLinear.

import { ConstantTensor, GraphNode, OnnxGraph, describeNode } from "./graph.js";
import { ConvertOptionError } from "./options.js";

/** A graph input or output that --quantized-io cannot make quantized; the message names it. */
export class QuantizedIoError extends ConvertOptionError {
  constructor(message: string) {
    super(`--quantized-io: ${message}`);
    this.name = "QuantizedIoError";
  }
}

/**
 * Rewrites the graph in place so that every graph input and output is
 * quantized. Inputs and outputs that are already integer tensors are kept.
 * Throws QuantizedIoError for a float input read by anything but
 * QuantizeLinear nodes of one quantization, and for a float output that no
 * DequantizeLinear of a quantized tensor produces or that a node also reads.
 */
export function useQuantizedIo(graph: OnnxGraph): void {
  const firstNodes: GraphNode[] = [];
  for (const input of graph.inputs) {
    if (input.type !== "float32") continue;
    const readers = graph.nodes.filter((node) => node.inputs.includes(input.name));
    if (graph.outputs.some((output) => output.name === input.name)) {
      throw new QuantizedIoError(`graph input "${input.name}" is also a graph output, so it has no quantization to take; convert without --quantized-io`);
    }
    if (readers.length === 0) continue;
    const other = readers.find((node) => node.opType !== "QuantizeLinear" || node.domain !== "" || node.inputs.indexOf(input.name) !== 0 || node.inputs.lastIndexOf(input.name) !== 0);
    if (other !== undefined) {
      throw new QuantizedIoError(
        `float graph input "${input.name}" is read by ${describeNode(other)}; the option needs every float input to be read only by QuantizeLinear nodes, ` +
          "whose scale and zero point the integer input then takes",
      );
    }
    const key = quantizationKey(graph, readers[0]);
    const differing = readers.find((node) => quantizationKey(graph, node) !== key);
    if (differing !== undefined) {
      throw new QuantizedIoError(
        `float graph input "${input.name}" is quantized with different scales or zero points by ${describeNode(readers[0])} and ${describeNode(differing)}; ` +
          "an integer input has one quantization",
      );
    }
    const first = readers[0];
    const zeroPointName = first.inputs[2] ?? "";
    const zeroPoint = zeroPointName === "" ? undefined : graph.constants.get(zeroPointName);
    // ONNX's default zero point, when the input is omitted, is a uint8 0.
    let type = zeroPoint?.type;
    if (zeroPointName === "") type = "uint8";
    if (type !== "uint8" && type !== "int8") {
      throw new QuantizedIoError(`${describeNode(first)} quantizes graph input "${input.name}" to ${type ?? "a type that is not a constant"}; the option supports uint8 and int8 inputs`);
    }

    // The integer input keeps the name; the float value the QuantizeLinear nodes read gets a new one.
    const floatName = unusedName(graph, `${input.name}/dequantized`);
    const dequantize: GraphNode = {
      opType: "DequantizeLinear",
      domain: "",
      name: unusedNodeName(graph, `${input.name}/DequantizeLinear`),
      inputs: [input.name, first.inputs[1], zeroPointName],
      outputs: [floatName],
      attributes: new Map([...first.attributes].filter(([name]) => name === "axis")),
    };
    for (const node of readers) node.inputs[0] = floatName;
    firstNodes.push(dequantize);
    input.type = type;
  }
  graph.nodes.unshift(...firstNodes);

  for (const output of graph.outputs) {
    const producer = graph.nodes.find((node) => node.outputs.includes(output.name));
    if (producer === undefined) continue;
    const isDequantize = producer.opType === "DequantizeLinear" && producer.domain === "";
    // An output of unknown type is rewritten only when a DequantizeLinear produces it.
    if (output.type !== "float32" && !(output.type === undefined && isDequantize)) continue;
    if (!isDequantize) {
      throw new QuantizedIoError(
        `graph output "${output.name}" is the float output of ${describeNode(producer)}; the option needs every float output to come from a DequantizeLinear, ` +
          "whose integer input then becomes the output",
      );
    }
    if (graph.constants.has(producer.inputs[0])) {
      throw new QuantizedIoError(`graph output "${output.name}" dequantizes a constant; convert without --quantized-io`);
    }
    const reader = graph.nodes.find((node) => node.inputs.includes(output.name));
    if (reader !== undefined) {
      throw new QuantizedIoError(`graph output "${output.name}" is also read as a float by ${describeNode(reader)}, so its DequantizeLinear cannot be removed`);
    }
    const zeroPointName = producer.inputs[2] ?? "";
    const zeroPoint = zeroPointName === "" ? undefined : graph.constants.get(zeroPointName);
    // The Identity passes the integer tensor on. A copy of the DequantizeLinear whose float result nothing
    // reads stays in the graph, so that lowering still gives the tensor this quantization (or checks it).
    const keep: GraphNode = {
      opType: "DequantizeLinear",
      domain: "",
      name: unusedNodeName(graph, `${output.name}/DequantizeLinear`),
      inputs: [...producer.inputs],
      outputs: [unusedName(graph, `${output.name}/dequantized`)],
      attributes: new Map(producer.attributes),
    };
    producer.opType = "Identity";
    producer.inputs = [producer.inputs[0]];
    producer.attributes = new Map();
    graph.nodes.splice(graph.nodes.indexOf(producer), 0, keep);
    output.type = zeroPoint?.type ?? "uint8";
  }
}

/** Describes the scale, zero point and axis of a QuantizeLinear as a string, equal for two nodes exactly when those are equal. */
function quantizationKey(graph: OnnxGraph, node: GraphNode): string {
  const operand = (index: number): string => {
    const name = node.inputs[index] ?? "";
    if (name === "") return "none";
    const tensor: ConstantTensor | undefined = graph.constants.get(name);
    return tensor === undefined ? `value ${name}` : `${tensor.type} [${tensor.dims}] ${Array.from(tensor.values).join(",")}`;
  };
  const axis = node.attributes.get("axis");
  return `${operand(1)} | ${operand(2)} | ${axis?.type === "int" ? axis.value : 1}`;
}

function usedNames(graph: OnnxGraph): Set<string> {
  const names = new Set<string>([...graph.constants.keys(), ...graph.inputs.map((input) => input.name), ...graph.outputs.map((output) => output.name)]);
  for (const node of graph.nodes) for (const name of [...node.inputs, ...node.outputs]) names.add(name);
  return names;
}

/** `base`, or `base_1`, `base_2`, ... when the graph already has a value of that name. */
function unusedName(graph: OnnxGraph, base: string): string {
  const names = usedNames(graph);
  let name = base;
  for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
  return name;
}

function unusedNodeName(graph: OnnxGraph, base: string): string {
  const names = new Set(graph.nodes.map((node) => node.name));
  let name = base;
  for (let i = 1; names.has(name); i++) name = `${base}_${i}`;
  return name;
}
