// DEPTHWISE_CONV_2D with a 3x3 filter, dilation 1 and a horizontal stride
// of 1 or 2 (any vertical stride and depth multiplier): the shape of the
// depthwise layers of MobileNet-style models such as person_detect.
//
// The kernel works on one output channel at a time, so the channel's 9
// weights stay in locals for the whole image. Along an output row, a window
// of 3x3 input values slides to the right, and each output reads only the 1
// (stride 1) or 2 (stride 2) new input columns.
//
// The input zero point is folded into the bias, and padding adds nothing,
// as TFLM's skipped taps:
//   - A column left or right of the input reads the input zero point, which
//     the folded bias cancels.
//   - A row above or below the input gets weights 0, and the row's bias adds
//     back zeroPoint times that row's weights.

import { ChannelRequantization, NARROW_FORM, WIDE_FORM, requantizeExact } from "./requantize.js";

/** Shapes and parameters of one 3x3 depthwise convolution, built at prepare. */
export interface Depthwise3x3Plan {
  readonly batches: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputDepth: number;
  readonly depthMultiplier: number;
  readonly outputHeight: number;
  readonly outputWidth: number;
  readonly strideHeight: number;
  /** 1 or 2. */
  readonly strideWidth: number;
  /** 0 or 1, because a 3-tap filter pads at most 1 before the input. */
  readonly padTop: number;
  readonly padLeft: number;
  /** Weights as stored, [1, 3, 3, outputChannels]. */
  readonly weights: Int8Array;
  readonly requantization: ChannelRequantization;
  readonly inputZeroPoint: number;
  readonly outputZeroPoint: number;
  readonly activationMin: number;
  readonly activationMax: number;
}

/** Runs the convolution of `input` into `output`. Allocates nothing. */
export function depthwise3x3(plan: Depthwise3x3Plan, input: Int8Array, output: Int8Array): void {
  const inputHeight = plan.inputHeight;
  const inputWidth = plan.inputWidth;
  const inputDepth = plan.inputDepth;
  const depthMultiplier = plan.depthMultiplier;
  const outputHeight = plan.outputHeight;
  const outputWidth = plan.outputWidth;
  const outputChannels = inputDepth * depthMultiplier;
  const strideHeight = plan.strideHeight;
  const strideWidth = plan.strideWidth;
  const weights = plan.weights;
  const requantization = plan.requantization;
  const foldedBias = requantization.foldedBias;
  const multipliers = requantization.multipliers;
  const shifts = requantization.shifts;
  const forms = requantization.forms;
  const zeroPoint = plan.inputZeroPoint;
  const outputZeroPoint = plan.outputZeroPoint;
  const activationMin = plan.activationMin;
  const activationMax = plan.activationMax;
  const imul = Math.imul;
  const inputRowStride = inputWidth * inputDepth;
  const outputRowStride = outputWidth * outputChannels;
  const firstColumn = -plan.padLeft;

  // XS charges meter units for a declaration inside a loop body, so every local is declared here.
  let batch, inChannel, m, channel, outY, outX, inY, imageBase, outputIndex;
  let w00, w01, w02, w10, w11, w12, w20, w21, w22;
  let u00, u01, u02, u10, u11, u12, u20, u21, u22;
  let a0 = 0, a1 = 0, a2 = 0, b0 = 0, b1 = 0, b2 = 0, c0 = 0, c1 = 0, c2 = 0;
  let row0, row1, row2, column, offset, channelBias, rowBias;
  let form, multiplier, limb0, limb1, limb2, rightShift, roundingOffset;
  let acc, high, low, middle1, middle2, rounded, value;

  for (batch = 0; batch < plan.batches; batch++) {
    imageBase = batch * inputHeight * inputRowStride;
    for (inChannel = 0; inChannel < inputDepth; inChannel++) {
      for (m = 0; m < depthMultiplier; m++) {
        channel = inChannel * depthMultiplier + m;
        w00 = weights[channel];
        w01 = weights[outputChannels + channel];
        w02 = weights[2 * outputChannels + channel];
        w10 = weights[3 * outputChannels + channel];
        w11 = weights[4 * outputChannels + channel];
        w12 = weights[5 * outputChannels + channel];
        w20 = weights[6 * outputChannels + channel];
        w21 = weights[7 * outputChannels + channel];
        w22 = weights[8 * outputChannels + channel];
        channelBias = foldedBias[channel];
        form = forms[channel];
        multiplier = multipliers[channel];
        // Limbs of the multiplier for the channel's form (requantize.ts).
        limb0 = form === NARROW_FORM ? multiplier & 0x3ff : multiplier & 0xffff;
        limb1 = form === NARROW_FORM ? (multiplier >> 10) & 0x7ff : multiplier >> 16;
        limb2 = multiplier >> 21;
        rightShift = -shifts[channel];
        roundingOffset = 1 << (rightShift - 1);
        outputIndex = batch * outputHeight * outputRowStride + channel;

        for (outY = 0; outY < outputHeight; outY++) {
          // Rows outside the input get weights 0 and read the image's first
          // row, and their zero-point taps move into the row's bias.
          inY = outY * strideHeight - plan.padTop;
          rowBias = channelBias;
          if (inY >= 0) {
            row0 = imageBase + inY * inputRowStride + inChannel;
            u00 = w00; u01 = w01; u02 = w02;
          } else {
            row0 = imageBase + inChannel;
            u00 = 0; u01 = 0; u02 = 0;
            rowBias += zeroPoint * (w00 + w01 + w02);
          }
          if (inY + 1 < inputHeight) {
            row1 = imageBase + (inY + 1) * inputRowStride + inChannel;
            u10 = w10; u11 = w11; u12 = w12;
          } else {
            row1 = imageBase + inChannel;
            u10 = 0; u11 = 0; u12 = 0;
            rowBias += zeroPoint * (w10 + w11 + w12);
          }
          if (inY + 2 < inputHeight) {
            row2 = imageBase + (inY + 2) * inputRowStride + inChannel;
            u20 = w20; u21 = w21; u22 = w22;
          } else {
            row2 = imageBase + inChannel;
            u20 = 0; u21 = 0; u22 = 0;
            rowBias += zeroPoint * (w20 + w21 + w22);
          }

          // The window is columns a, b, c. Each step shifts it left by the
          // stride, reading column b anew for stride 2, then reads column c.
          // The preloaded columns make the first step's window firstColumn
          // (-1 or 0), firstColumn + 1 and firstColumn + 2.
          column = firstColumn;
          offset = column * inputDepth;
          if (strideWidth === 1) {
            if (column >= 0) {
              b0 = input[row0]; b1 = input[row1]; b2 = input[row2];
            } else {
              b0 = zeroPoint; b1 = zeroPoint; b2 = zeroPoint;
            }
            column++;
            offset += inputDepth;
          }
          if (column >= 0 && column < inputWidth) {
            c0 = input[row0 + offset]; c1 = input[row1 + offset]; c2 = input[row2 + offset];
          } else {
            c0 = zeroPoint; c1 = zeroPoint; c2 = zeroPoint;
          }
          column++;
          offset += inputDepth;

          for (outX = 0; outX < outputWidth; outX++) {
            if (strideWidth === 1) {
              a0 = b0; a1 = b1; a2 = b2;
              b0 = c0; b1 = c1; b2 = c2;
            } else {
              a0 = c0; a1 = c1; a2 = c2;
              if (column < inputWidth) {
                b0 = input[row0 + offset]; b1 = input[row1 + offset]; b2 = input[row2 + offset];
              } else {
                b0 = zeroPoint; b1 = zeroPoint; b2 = zeroPoint;
              }
              column++;
              offset += inputDepth;
            }
            if (column < inputWidth) {
              c0 = input[row0 + offset]; c1 = input[row1 + offset]; c2 = input[row2 + offset];
            } else {
              c0 = zeroPoint; c1 = zeroPoint; c2 = zeroPoint;
            }
            column++;
            offset += inputDepth;

            acc = rowBias + u00 * a0 + u01 * b0 + u02 * c0 + u10 * a1 + u11 * b1 + u12 * c1 + u20 * a2 + u21 * b2 + u22 * c2;
            // The requantization forms of requantize.ts, which explains each step.
            if (form === NARROW_FORM) {
              middle1 = acc * limb1 + ((acc * limb0) >> 10);
              rounded = (acc * limb2 + ((middle1 + 0x100000) >> 11)) >> 10;
              value = ((rounded + roundingOffset + (rounded >> 31)) >> rightShift) + outputZeroPoint;
            } else if (form === WIDE_FORM) {
              high = acc >> 16;
              low = acc & 0xffff;
              middle1 = high * limb0 + (imul(low, limb0) >>> 16);
              middle2 = low * limb1 + (middle1 & 0xffff);
              rounded = ((high * limb1 + (middle1 >> 16) + (middle2 >> 16)) << 1) + (((middle2 & 0xffff) + 0x4000) >> 15);
              value = ((rounded + roundingOffset + (rounded >> 31)) >> rightShift) + outputZeroPoint;
            } else {
              value = requantizeExact(acc, requantization, channel) + outputZeroPoint;
            }
            if (value < activationMin) value = activationMin;
            else if (value > activationMax) value = activationMax;
            output[outputIndex] = value;
            outputIndex += outputChannels;
          }
        }
      }
    }
  }
}
