// Graph validation at load: tensor types are supported, and every operator
// input is a constant, a variable, a graph input or the output of an earlier
// operator (which also rules out cycles).

import { InvalidModelError, UnsupportedError } from "./errors.js";
import { ModelDef, OperatorDef } from "./model.js";
import { isSupportedTensorType, tensorTypeName } from "./tensor_types.js";

/** Checks tensor types and that every operator input exists before the operator runs. */
export function validateGraph(model: ModelDef): void {
  const available = new Uint8Array(model.tensors.length);
  // An empty tensor has no data to wait for, whether or not it has a buffer.
  for (const tensor of model.tensors) {
    if (tensor.dataOffset >= 0 || tensor.isVariable || tensor.elementCount === 0) available[tensor.index] = 1;
  }
  for (const index of model.inputs) {
    if (index < 0) throw new InvalidModelError(`graph input list contains ${index}; the file is corrupted`);
    const tensor = model.tensors[index];
    if (tensor.dataOffset >= 0) {
      throw new InvalidModelError(
        `graph input tensor ${index} "${tensor.name}" is a constant stored in the model, so input data ` +
          `would be ignored; the file is corrupted`,
      );
    }
    available[index] = 1;
  }
  for (const op of model.operators) {
    for (const index of op.inputs) {
      if (index >= 0 && available[index] === 0) {
        if (isStateInput(op, index)) {
          throw new InvalidModelError(
            `operator ${op.index} (${op.name}) keeps its state in tensor ${index} "${model.tensors[index].name}", ` +
              `which is not a variable tensor; the converter must mark the state is_variable, so the file is corrupted`,
          );
        }
        throw new InvalidModelError(
          `operator ${op.index} (${op.name}) reads tensor ${index} "${model.tensors[index].name}" before any ` +
            `operator writes it; the graph is out of order or cyclic, so the file is corrupted`,
        );
      }
    }
    for (const index of op.outputs) {
      if (index < 0) throw new InvalidModelError(`operator ${op.index} (${op.name}) has output ${index}; the file is corrupted`);
      const tensor = model.tensors[index];
      if (tensor.dataOffset >= 0) {
        throw new InvalidModelError(
          `operator ${op.index} (${op.name}) writes tensor ${index} "${tensor.name}", which is a constant; the file is corrupted`,
        );
      }
      available[index] = 1;
    }
  }
  for (const index of model.outputs) {
    if (index < 0 || available[index] === 0) {
      throw new InvalidModelError(`graph output tensor ${index} is never written by any operator; the file is corrupted`);
    }
  }
  const seen = new Set<number>();
  const check = (index: number, role: string) => {
    if (index < 0 || seen.has(index)) return;
    seen.add(index);
    const tensor = model.tensors[index];
    if (tensor.dataOffset < 0 && !isSupportedTensorType(tensor.type)) {
      throw new UnsupportedError(
        `${role} tensor ${index} "${tensor.name}" has type ${tensorTypeName(tensor.type)}, which microq does not support; ` +
          `quantize the model to int8 or uint8`,
      );
    }
  };
  for (const index of model.inputs) check(index, "input");
  for (const op of model.operators) {
    for (const index of op.outputs) check(index, `operator ${op.index} (${op.name}) output`);
  }
}


/** Input positions of the recurrent state that SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM read and write. */
const STATE_INPUT_POSITIONS: Readonly<Record<string, readonly number[]>> = {
  SVDF: [4],
  UNIDIRECTIONAL_SEQUENCE_LSTM: [18, 19],
};

function isStateInput(op: OperatorDef, tensorIndex: number): boolean {
  const positions = STATE_INPUT_POSITIONS[op.name];
  return positions !== undefined && positions.some((position) => op.inputs[position] === tensorIndex);
}
