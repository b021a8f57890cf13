// Window geometry of ONNX Conv and pooling nodes (strides, dilations, pads,
// auto_pad, ceil_mode) and the PAD or PADV2 operator that makes explicit
// padding visible to a VALID TFLite layer.

import { GraphNode, UnsupportedNodeError, attributeInt, attributeInts, attributeString } from "./graph.js";
import { Lowering, tfliteQuantization } from "./lower.js";
import { TensorValue } from "./values.js";

export interface WindowGeometry {
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
  outputH: number;
  outputW: number;
}

function pair(node: GraphNode, name: string, defaultValue: number): [number, number] {
  const values = attributeInts(node, name);
  if (values === undefined) return [defaultValue, defaultValue];
  if (values.length !== 2) throw new UnsupportedNodeError(node, `attribute ${name} has ${values.length} values; only 2-D windows are supported`);
  if (values.some((v) => !Number.isInteger(v) || v < 1)) throw new UnsupportedNodeError(node, `attribute ${name} [${values}] must hold positive integers`);
  return [values[0], values[1]];
}

/**
 * Computes the window geometry of a 2-D Conv or pool over an NCHW input
 * of height `inputH` and width `inputW`. With `allowCeilMode`, ceil_mode 1
 * is accepted when it gives the same output size as floor.
 */
export function windowGeometry(node: GraphNode, inputH: number, inputW: number, kernelH: number, kernelW: number, allowCeilMode: boolean): WindowGeometry {
  const [strideH, strideW] = pair(node, "strides", 1);
  const [dilationH, dilationW] = pair(node, "dilations", 1);
  const effectiveH = (kernelH - 1) * dilationH + 1;
  const effectiveW = (kernelW - 1) * dilationW + 1;

  let [padTop, padLeft, padBottom, padRight] = [0, 0, 0, 0];
  const autoPad = attributeString(node, "auto_pad", "NOTSET");
  if (autoPad === "NOTSET") {
    const pads = attributeInts(node, "pads") ?? [0, 0, 0, 0];
    if (pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new UnsupportedNodeError(node, `pads [${pads}] must be 4 non-negative integers (top, left, bottom, right)`);
    }
    [padTop, padLeft, padBottom, padRight] = pads;
  } else if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const totalH = Math.max(0, (Math.ceil(inputH / strideH) - 1) * strideH + effectiveH - inputH);
    const totalW = Math.max(0, (Math.ceil(inputW / strideW) - 1) * strideW + effectiveW - inputW);
    // SAME_UPPER puts the odd extra pixel at the end, SAME_LOWER at the beginning.
    padTop = autoPad === "SAME_UPPER" ? Math.floor(totalH / 2) : Math.ceil(totalH / 2);
    padLeft = autoPad === "SAME_UPPER" ? Math.floor(totalW / 2) : Math.ceil(totalW / 2);
    padBottom = totalH - padTop;
    padRight = totalW - padLeft;
  } else if (autoPad !== "VALID") {
    throw new UnsupportedNodeError(node, `auto_pad "${autoPad}" is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }

  const spanH = inputH + padTop + padBottom - effectiveH;
  const spanW = inputW + padLeft + padRight - effectiveW;
  if (spanH < 0 || spanW < 0) {
    throw new UnsupportedNodeError(node, `the ${kernelH}x${kernelW} window (dilated ${effectiveH}x${effectiveW}) is larger than the padded ${inputH}x${inputW} input`);
  }
  const outputH = Math.floor(spanH / strideH) + 1;
  const outputW = Math.floor(spanW / strideW) + 1;
  if (attributeInt(node, "ceil_mode", 0) !== 0) {
    const ceilH = Math.ceil(spanH / strideH) + 1;
    const ceilW = Math.ceil(spanW / strideW) + 1;
    if (!allowCeilMode || ceilH !== outputH || ceilW !== outputW) {
      throw new UnsupportedNodeError(node, "ceil_mode 1 adds a partial window here, which is not supported; use ceil_mode 0 or pad the input");
    }
  }
  return { strideH, strideW, dilationH, dilationW, padTop, padLeft, padBottom, padRight, outputH, outputW };
}

export function hasPadding(geometry: WindowGeometry): boolean {
  return geometry.padTop + geometry.padLeft + geometry.padBottom + geometry.padRight > 0;
}

/**
 * Adds a PAD (fill value: the input zero point, TFLite's rule for quantized
 * PAD) or, with `fillValue`, a PADV2 with that stored value, and returns the
 * padded NHWC tensor. Returns the input when there is no padding.
 */
export function emitPadding(lowering: Lowering, node: GraphNode, input: TensorValue, geometry: WindowGeometry, fillValue?: number): TensorValue {
  if (!hasPadding(geometry)) return input;
  const [n, c, h, w] = input.shape;
  const paddedShape = [n, c, h + geometry.padTop + geometry.padBottom, w + geometry.padLeft + geometry.padRight];
  const prefix = node.name || node.opType;
  const output = lowering.addTensor(`${prefix}/padded`, input.type, paddedShape, input.quantization);
  // Paddings are [before, after] per NHWC dimension.
  const paddings = lowering.builder.addConstant(`${prefix}/paddings`, "int32", [4, 2], [0, 0, geometry.padTop, geometry.padBottom, geometry.padLeft, geometry.padRight, 0, 0]);
  if (fillValue === undefined) {
    lowering.builder.addOperator("PAD", [input.index, paddings], [output.index], { type: "PadOptions" });
  } else {
    const quantization = input.quantization === undefined ? undefined : tfliteQuantization(input.quantization, input.shape.length);
    const fill = lowering.builder.addConstant(`${prefix}/pad_value`, input.type, [], [fillValue], quantization);
    lowering.builder.addOperator("PADV2", [input.index, paddings, fill], [output.index], { type: "PadV2Options" });
  }
  return output;
}
