// Collects the tensors and operators of the converted model and hands them
// to the .tflite writer. Tensor specs stay mutable until the end, because a
// graph input's quantization is only known once a DequantizeLinear or a
// QLinear node reads it.

import { ModelSpec, OperatorSpec, OptionsSpec, TensorSpec, TensorTypeName, writeModel } from "../tflite/writer.js";
import { checkedElementCount } from "./graph.js";

export interface TensorQuantization {
  scale: number[];
  zeroPoint: number[];
  /** TFLite quantized_dimension for per-channel quantization. */
  quantizedDimension?: number;
}

export class TfliteModelBuilder {
  readonly tensors: TensorSpec[] = [];
  readonly operators: OperatorSpec[] = [];
  readonly inputs: number[] = [];
  readonly outputs: number[] = [];
  private readonly usedNames = new Set<string>();

  /**
   * Adds an activation tensor and returns its index. Names are made unique
   * with a numeric suffix. Throws OnnxModelError when a dimension does not
   * fit an int32 or the tensor has more elements than the runtime accepts.
   */
  addTensor(name: string, type: TensorTypeName, shape: readonly number[], quantization?: TensorQuantization): number {
    checkedElementCount(shape, `tensor "${name}"`);
    return this.pushTensor({ name: this.uniqueName(name), type, shape: [...shape], ...quantizationFields(quantization) });
  }

  /** Adds a constant tensor whose data is `values` stored little-endian as `type`; checks the shape as addTensor does. */
  addConstant(name: string, type: TensorTypeName, shape: readonly number[], values: ArrayLike<number>, quantization?: TensorQuantization): number {
    checkedElementCount(shape, `tensor "${name}"`);
    return this.pushTensor({ name: this.uniqueName(name), type, shape: [...shape], data: encodeValues(type, values), ...quantizationFields(quantization) });
  }

  setQuantization(tensor: number, quantization: TensorQuantization): void {
    Object.assign(this.tensors[tensor], quantizationFields(quantization));
  }

  /** Renames a tensor, for example to the graph output name it is exposed under. */
  rename(tensor: number, name: string): void {
    if (this.tensors[tensor].name === name) return;
    this.tensors[tensor].name = this.uniqueName(name);
  }

  addOperator(op: string, inputs: readonly number[], outputs: readonly number[], options?: OptionsSpec, customCode?: string): void {
    this.operators.push({ op, inputs: [...inputs], outputs: [...outputs], ...(options === undefined ? {} : { options }), ...(customCode === undefined ? {} : { customCode }) });
  }

  build(metadata: Record<string, string>, description: string): Uint8Array {
    const encoder = new TextEncoder();
    const spec: ModelSpec = {
      tensors: this.tensors,
      operators: this.operators,
      inputs: this.inputs,
      outputs: this.outputs,
      description,
      subgraphName: "main",
      metadata: Object.fromEntries(Object.entries(metadata).map(([name, value]) => [name, encoder.encode(value)])),
    };
    return writeModel(spec);
  }

  private pushTensor(spec: TensorSpec): number {
    this.tensors.push(spec);
    return this.tensors.length - 1;
  }

  private uniqueName(name: string): string {
    let candidate = name;
    for (let suffix = 1; this.usedNames.has(candidate); suffix++) candidate = `${name}_${suffix}`;
    this.usedNames.add(candidate);
    return candidate;
  }
}

function quantizationFields(quantization: TensorQuantization | undefined): Partial<TensorSpec> {
  if (quantization === undefined) return {};
  return {
    scale: [...quantization.scale],
    zeroPoint: [...quantization.zeroPoint],
    ...(quantization.quantizedDimension === undefined ? {} : { quantizedDimension: quantization.quantizedDimension }),
  };
}

const BYTES_PER_ELEMENT: Readonly<Record<TensorTypeName, number>> = { int8: 1, uint8: 1, bool: 1, int16: 2, int32: 4, float32: 4, int64: 8 };

/** Encodes values little-endian, independent of the host's byte order. */
export function encodeValues(type: TensorTypeName, values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * BYTES_PER_ELEMENT[type]);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    switch (type) {
      case "int8":
        view.setInt8(i, value);
        break;
      case "uint8":
      case "bool":
        view.setUint8(i, value);
        break;
      case "int16":
        view.setInt16(2 * i, value, true);
        break;
      case "int32":
        view.setInt32(4 * i, value, true);
        break;
      case "float32":
        view.setFloat32(4 * i, value, true);
        break;
      case "int64":
        view.setBigInt64(8 * i, BigInt(value), true);
        break;
    }
  }
  return bytes;
}
