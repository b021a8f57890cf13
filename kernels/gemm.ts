// Int8 matrix product with per-channel requantization: the inner loop of
// CONV_2D (directly for 1x1 convolutions, over gathered patches otherwise),
// FULLY_CONNECTED and some DEPTHWISE_CONV_2D shapes.
//
// out[row][channel] = requantize(foldedBias[channel] + sum over i of
// lhs[row][i] * weights[channel][i]), where both operands are int8 values
// read four at a time as int32 words. The input zero point is already in
// foldedBias (see requantize.ts), so padding values must be the input zero
// point and padding weights 0.
//
// A tile of 8 rows by 8 channels keeps its 64 accumulators in locals, so
// each step over one word of the shared dimension reads 16 words and does
// 256 multiply-accumulates. Rows left over use a 4-row, then a 1-row tile.
// bench/kernels/inner_loops.ts measured these tiles on XS (@agoric/xsnap
// 0.15.0 on a 2-core x86-64 VM) for 32 rows x 128 depth x 128 channels. Per
// multiply-accumulate, this tile took 6.5 meter units and 10.7 ns, 4 x 8
// took 7.4 and 13.2, and 1 x 8 took 13.3 and 25.4. Reading one int8 value
// at a time instead of words, 8 x 8 took 8.2 and 15.9. Times vary with the
// machine's load, but their order held in every run.
//
// NOTE: the 8-row tile keeps about 170 locals on the XS stack. A
// micro_speech invoke needed 528 stack slots below its caller, against 331
// before these kernels (xsnap 0.15.0 engine, tools/xs/host rebuilt with a
// settable stackCount). Moddable's manifest_base.json creates machines with
// 256 slots, so a device manifest must raise creation.stack.
//
// Lane l of a word is the byte at address 4 * index + l on a little-endian
// machine. The lanes of both operands come from memory the same way, so the
// dot product does not depend on byte order.
//
// Range: a lane product is at most 2^14 in magnitude, so partial sums over
// fewer than 2^17 values stay inside int32. The final sum plus foldedBias is
// TFLM's accumulator, which accumulatorBound (requantize.ts) bounds.

import { ChannelRequantization, NARROW_FORM, WIDE_FORM, requantizeExact } from "./requantize.js";

/** Weights and output parameters of one product, built at prepare. */
export interface GemmPlan {
  /** Weight row of each output channel, rowWords words each. */
  readonly weights: Int32Array;
  readonly rowWords: number;
  readonly requantization: ChannelRequantization;
  readonly outputZeroPoint: number;
  readonly activationMin: number;
  readonly activationMax: number;
  /** Accumulators of one tile of up to 8 rows, row-major with 8 channels a row, reused by every call. */
  readonly tile: Int32Array;
}

/** Bytes a GemmPlan allocates besides its weights and requantization arrays. */
export const GEMM_TILE_BYTES = 64 * 4;

export function createGemmPlan(
  weights: Int32Array,
  rowWords: number,
  requantization: ChannelRequantization,
  outputZeroPoint: number,
  activationMin: number,
  activationMax: number,
): GemmPlan {
  return { weights, rowWords, requantization, outputZeroPoint, activationMin, activationMax, tile: new Int32Array(64) };
}

/**
 * Computes rowCount rows of output channels [channelStart, channelStart +
 * channelCount). Row r reads lhs words from lhsBase + r * lhsRowWords and
 * writes channel c to out[outBase + r * outRowStride + c]. Allocates nothing.
 */
export function gemm(
  plan: GemmPlan,
  lhs: Int32Array,
  lhsBase: number,
  lhsRowWords: number,
  rowCount: number,
  out: Int8Array,
  outBase: number,
  outRowStride: number,
  channelStart: number,
  channelCount: number,
): void {
  let row = 0;
  for (; row + 8 <= rowCount; row += 8) {
    multiplyEightRows(
      plan,
      lhs,
      lhsBase + row * lhsRowWords,
      lhsRowWords,
      out,
      outBase + row * outRowStride,
      outRowStride,
      channelStart,
      channelCount,
    );
  }
  if (row + 4 <= rowCount) {
    multiplyFourRows(
      plan,
      lhs,
      lhsBase + row * lhsRowWords,
      lhsRowWords,
      out,
      outBase + row * outRowStride,
      outRowStride,
      channelStart,
      channelCount,
    );
    row += 4;
  }
  for (; row < rowCount; row++) {
    multiplyOneRow(plan, lhs, lhsBase + row * lhsRowWords, out, outBase + row * outRowStride, channelStart, channelCount);
  }
}

/** Computes eight consecutive rows of the product for every channel of the range, in blocks of 8 channels. */
function multiplyEightRows(
  plan: GemmPlan,
  lhs: Int32Array,
  lhsBase: number,
  lhsRowWords: number,
  out: Int8Array,
  outBase: number,
  outRowStride: number,
  channelStart: number,
  channelCount: number,
): void {
  const weights = plan.weights;
  const rowWords = plan.rowWords;
  const tile = plan.tile;
  const row0 = lhsBase;
  const row1 = lhsBase + lhsRowWords;
  const row2 = lhsBase + 2 * lhsRowWords;
  const row3 = lhsBase + 3 * lhsRowWords;
  const row4 = lhsBase + 4 * lhsRowWords;
  const row5 = lhsBase + 5 * lhsRowWords;
  const row6 = lhsBase + 6 * lhsRowWords;
  const row7 = lhsBase + 7 * lhsRowWords;
  const lastChannel = channelStart + channelCount - 1;
  const blockChannels = channelCount < 8 ? channelCount : 8;
  // XS charges meter units for a declaration inside a loop body, so every local is declared here.
  let block, first, word;
  let channel0, channel1, channel2, channel3, channel4, channel5, channel6, channel7;
  let input0, input1, input2, input3, input4, input5, input6, input7, weight0, weight1, weight2, weight3, weight4, weight5, weight6, weight7;
  let x00, x01, x02, x03, x10, x11, x12, x13, x20, x21, x22, x23, x30, x31, x32, x33;
  let x40, x41, x42, x43, x50, x51, x52, x53, x60, x61, x62, x63, x70, x71, x72, x73;
  let w00, w01, w02, w03, w10, w11, w12, w13, w20, w21, w22, w23, w30, w31, w32, w33;
  let w40, w41, w42, w43, w50, w51, w52, w53, w60, w61, w62, w63, w70, w71, w72, w73;
  let acc00, acc01, acc02, acc03, acc04, acc05, acc06, acc07, acc10, acc11, acc12, acc13, acc14, acc15, acc16, acc17;
  let acc20, acc21, acc22, acc23, acc24, acc25, acc26, acc27, acc30, acc31, acc32, acc33, acc34, acc35, acc36, acc37;
  let acc40, acc41, acc42, acc43, acc44, acc45, acc46, acc47, acc50, acc51, acc52, acc53, acc54, acc55, acc56, acc57;
  let acc60, acc61, acc62, acc63, acc64, acc65, acc66, acc67, acc70, acc71, acc72, acc73, acc74, acc75, acc76, acc77;

  for (block = 0; block < channelCount; block += 8) {
    // With 8 or more channels the last block ends at the last channel and
    // recomputes channels of the block before it. With fewer, the missing
    // weight rows repeat the last one, and only real channels are stored.
    if (channelCount < 8) first = channelStart;
    else if (block < channelCount - 8) first = channelStart + block;
    else first = channelStart + channelCount - 8;
    channel0 = first * rowWords;
    channel1 = (first + 1 < lastChannel ? first + 1 : lastChannel) * rowWords;
    channel2 = (first + 2 < lastChannel ? first + 2 : lastChannel) * rowWords;
    channel3 = (first + 3 < lastChannel ? first + 3 : lastChannel) * rowWords;
    channel4 = (first + 4 < lastChannel ? first + 4 : lastChannel) * rowWords;
    channel5 = (first + 5 < lastChannel ? first + 5 : lastChannel) * rowWords;
    channel6 = (first + 6 < lastChannel ? first + 6 : lastChannel) * rowWords;
    channel7 = (first + 7 < lastChannel ? first + 7 : lastChannel) * rowWords;
    acc00 = 0; acc01 = 0; acc02 = 0; acc03 = 0; acc04 = 0; acc05 = 0; acc06 = 0; acc07 = 0;
    acc10 = 0; acc11 = 0; acc12 = 0; acc13 = 0; acc14 = 0; acc15 = 0; acc16 = 0; acc17 = 0;
    acc20 = 0; acc21 = 0; acc22 = 0; acc23 = 0; acc24 = 0; acc25 = 0; acc26 = 0; acc27 = 0;
    acc30 = 0; acc31 = 0; acc32 = 0; acc33 = 0; acc34 = 0; acc35 = 0; acc36 = 0; acc37 = 0;
    acc40 = 0; acc41 = 0; acc42 = 0; acc43 = 0; acc44 = 0; acc45 = 0; acc46 = 0; acc47 = 0;
    acc50 = 0; acc51 = 0; acc52 = 0; acc53 = 0; acc54 = 0; acc55 = 0; acc56 = 0; acc57 = 0;
    acc60 = 0; acc61 = 0; acc62 = 0; acc63 = 0; acc64 = 0; acc65 = 0; acc66 = 0; acc67 = 0;
    acc70 = 0; acc71 = 0; acc72 = 0; acc73 = 0; acc74 = 0; acc75 = 0; acc76 = 0; acc77 = 0;
    for (word = 0; word < rowWords; word++) {
      input0 = lhs[row0 + word];
      input1 = lhs[row1 + word];
      input2 = lhs[row2 + word];
      input3 = lhs[row3 + word];
      input4 = lhs[row4 + word];
      input5 = lhs[row5 + word];
      input6 = lhs[row6 + word];
      input7 = lhs[row7 + word];
      weight0 = weights[channel0 + word];
      weight1 = weights[channel1 + word];
      weight2 = weights[channel2 + word];
      weight3 = weights[channel3 + word];
      weight4 = weights[channel4 + word];
      weight5 = weights[channel5 + word];
      weight6 = weights[channel6 + word];
      weight7 = weights[channel7 + word];
      x00 = (input0 << 24) >> 24; x01 = (input0 << 16) >> 24; x02 = (input0 << 8) >> 24; x03 = input0 >> 24;
      x10 = (input1 << 24) >> 24; x11 = (input1 << 16) >> 24; x12 = (input1 << 8) >> 24; x13 = input1 >> 24;
      x20 = (input2 << 24) >> 24; x21 = (input2 << 16) >> 24; x22 = (input2 << 8) >> 24; x23 = input2 >> 24;
      x30 = (input3 << 24) >> 24; x31 = (input3 << 16) >> 24; x32 = (input3 << 8) >> 24; x33 = input3 >> 24;
      x40 = (input4 << 24) >> 24; x41 = (input4 << 16) >> 24; x42 = (input4 << 8) >> 24; x43 = input4 >> 24;
      x50 = (input5 << 24) >> 24; x51 = (input5 << 16) >> 24; x52 = (input5 << 8) >> 24; x53 = input5 >> 24;
      x60 = (input6 << 24) >> 24; x61 = (input6 << 16) >> 24; x62 = (input6 << 8) >> 24; x63 = input6 >> 24;
      x70 = (input7 << 24) >> 24; x71 = (input7 << 16) >> 24; x72 = (input7 << 8) >> 24; x73 = input7 >> 24;
      w00 = (weight0 << 24) >> 24; w01 = (weight0 << 16) >> 24; w02 = (weight0 << 8) >> 24; w03 = weight0 >> 24;
      w10 = (weight1 << 24) >> 24; w11 = (weight1 << 16) >> 24; w12 = (weight1 << 8) >> 24; w13 = weight1 >> 24;
      w20 = (weight2 << 24) >> 24; w21 = (weight2 << 16) >> 24; w22 = (weight2 << 8) >> 24; w23 = weight2 >> 24;
      w30 = (weight3 << 24) >> 24; w31 = (weight3 << 16) >> 24; w32 = (weight3 << 8) >> 24; w33 = weight3 >> 24;
      w40 = (weight4 << 24) >> 24; w41 = (weight4 << 16) >> 24; w42 = (weight4 << 8) >> 24; w43 = weight4 >> 24;
      w50 = (weight5 << 24) >> 24; w51 = (weight5 << 16) >> 24; w52 = (weight5 << 8) >> 24; w53 = weight5 >> 24;
      w60 = (weight6 << 24) >> 24; w61 = (weight6 << 16) >> 24; w62 = (weight6 << 8) >> 24; w63 = weight6 >> 24;
      w70 = (weight7 << 24) >> 24; w71 = (weight7 << 16) >> 24; w72 = (weight7 << 8) >> 24; w73 = weight7 >> 24;
      acc00 += x00 * w00 + x01 * w01 + x02 * w02 + x03 * w03;
      acc01 += x00 * w10 + x01 * w11 + x02 * w12 + x03 * w13;
      acc02 += x00 * w20 + x01 * w21 + x02 * w22 + x03 * w23;
      acc03 += x00 * w30 + x01 * w31 + x02 * w32 + x03 * w33;
      acc04 += x00 * w40 + x01 * w41 + x02 * w42 + x03 * w43;
      acc05 += x00 * w50 + x01 * w51 + x02 * w52 + x03 * w53;
      acc06 += x00 * w60 + x01 * w61 + x02 * w62 + x03 * w63;
      acc07 += x00 * w70 + x01 * w71 + x02 * w72 + x03 * w73;
      acc10 += x10 * w00 + x11 * w01 + x12 * w02 + x13 * w03;
      acc11 += x10 * w10 + x11 * w11 + x12 * w12 + x13 * w13;
      acc12 += x10 * w20 + x11 * w21 + x12 * w22 + x13 * w23;
      acc13 += x10 * w30 + x11 * w31 + x12 * w32 + x13 * w33;
      acc14 += x10 * w40 + x11 * w41 + x12 * w42 + x13 * w43;
      acc15 += x10 * w50 + x11 * w51 + x12 * w52 + x13 * w53;
      acc16 += x10 * w60 + x11 * w61 + x12 * w62 + x13 * w63;
      acc17 += x10 * w70 + x11 * w71 + x12 * w72 + x13 * w73;
      acc20 += x20 * w00 + x21 * w01 + x22 * w02 + x23 * w03;
      acc21 += x20 * w10 + x21 * w11 + x22 * w12 + x23 * w13;
      acc22 += x20 * w20 + x21 * w21 + x22 * w22 + x23 * w23;
      acc23 += x20 * w30 + x21 * w31 + x22 * w32 + x23 * w33;
      acc24 += x20 * w40 + x21 * w41 + x22 * w42 + x23 * w43;
      acc25 += x20 * w50 + x21 * w51 + x22 * w52 + x23 * w53;
      acc26 += x20 * w60 + x21 * w61 + x22 * w62 + x23 * w63;
      acc27 += x20 * w70 + x21 * w71 + x22 * w72 + x23 * w73;
      acc30 += x30 * w00 + x31 * w01 + x32 * w02 + x33 * w03;
      acc31 += x30 * w10 + x31 * w11 + x32 * w12 + x33 * w13;
      acc32 += x30 * w20 + x31 * w21 + x32 * w22 + x33 * w23;
      acc33 += x30 * w30 + x31 * w31 + x32 * w32 + x33 * w33;
      acc34 += x30 * w40 + x31 * w41 + x32 * w42 + x33 * w43;
      acc35 += x30 * w50 + x31 * w51 + x32 * w52 + x33 * w53;
      acc36 += x30 * w60 + x31 * w61 + x32 * w62 + x33 * w63;
      acc37 += x30 * w70 + x31 * w71 + x32 * w72 + x33 * w73;
      acc40 += x40 * w00 + x41 * w01 + x42 * w02 + x43 * w03;
      acc41 += x40 * w10 + x41 * w11 + x42 * w12 + x43 * w13;
      acc42 += x40 * w20 + x41 * w21 + x42 * w22 + x43 * w23;
      acc43 += x40 * w30 + x41 * w31 + x42 * w32 + x43 * w33;
      acc44 += x40 * w40 + x41 * w41 + x42 * w42 + x43 * w43;
      acc45 += x40 * w50 + x41 * w51 + x42 * w52 + x43 * w53;
      acc46 += x40 * w60 + x41 * w61 + x42 * w62 + x43 * w63;
      acc47 += x40 * w70 + x41 * w71 + x42 * w72 + x43 * w73;
      acc50 += x50 * w00 + x51 * w01 + x52 * w02 + x53 * w03;
      acc51 += x50 * w10 + x51 * w11 + x52 * w12 + x53 * w13;
      acc52 += x50 * w20 + x51 * w21 + x52 * w22 + x53 * w23;
      acc53 += x50 * w30 + x51 * w31 + x52 * w32 + x53 * w33;
      acc54 += x50 * w40 + x51 * w41 + x52 * w42 + x53 * w43;
      acc55 += x50 * w50 + x51 * w51 + x52 * w52 + x53 * w53;
      acc56 += x50 * w60 + x51 * w61 + x52 * w62 + x53 * w63;
      acc57 += x50 * w70 + x51 * w71 + x52 * w72 + x53 * w73;
      acc60 += x60 * w00 + x61 * w01 + x62 * w02 + x63 * w03;
      acc61 += x60 * w10 + x61 * w11 + x62 * w12 + x63 * w13;
      acc62 += x60 * w20 + x61 * w21 + x62 * w22 + x63 * w23;
      acc63 += x60 * w30 + x61 * w31 + x62 * w32 + x63 * w33;
      acc64 += x60 * w40 + x61 * w41 + x62 * w42 + x63 * w43;
      acc65 += x60 * w50 + x61 * w51 + x62 * w52 + x63 * w53;
      acc66 += x60 * w60 + x61 * w61 + x62 * w62 + x63 * w63;
      acc67 += x60 * w70 + x61 * w71 + x62 * w72 + x63 * w73;
      acc70 += x70 * w00 + x71 * w01 + x72 * w02 + x73 * w03;
      acc71 += x70 * w10 + x71 * w11 + x72 * w12 + x73 * w13;
      acc72 += x70 * w20 + x71 * w21 + x72 * w22 + x73 * w23;
      acc73 += x70 * w30 + x71 * w31 + x72 * w32 + x73 * w33;
      acc74 += x70 * w40 + x71 * w41 + x72 * w42 + x73 * w43;
      acc75 += x70 * w50 + x71 * w51 + x72 * w52 + x73 * w53;
      acc76 += x70 * w60 + x71 * w61 + x72 * w62 + x73 * w63;
      acc77 += x70 * w70 + x71 * w71 + x72 * w72 + x73 * w73;
    }
    tile[0] = acc00; tile[1] = acc01; tile[2] = acc02; tile[3] = acc03; tile[4] = acc04; tile[5] = acc05; tile[6] = acc06; tile[7] = acc07;
    tile[8] = acc10; tile[9] = acc11; tile[10] = acc12; tile[11] = acc13; tile[12] = acc14; tile[13] = acc15; tile[14] = acc16; tile[15] = acc17;
    tile[16] = acc20; tile[17] = acc21; tile[18] = acc22; tile[19] = acc23; tile[20] = acc24; tile[21] = acc25; tile[22] = acc26; tile[23] = acc27;
    tile[24] = acc30; tile[25] = acc31; tile[26] = acc32; tile[27] = acc33; tile[28] = acc34; tile[29] = acc35; tile[30] = acc36; tile[31] = acc37;
    tile[32] = acc40; tile[33] = acc41; tile[34] = acc42; tile[35] = acc43; tile[36] = acc44; tile[37] = acc45; tile[38] = acc46; tile[39] = acc47;
    tile[40] = acc50; tile[41] = acc51; tile[42] = acc52; tile[43] = acc53; tile[44] = acc54; tile[45] = acc55; tile[46] = acc56; tile[47] = acc57;
    tile[48] = acc60; tile[49] = acc61; tile[50] = acc62; tile[51] = acc63; tile[52] = acc64; tile[53] = acc65; tile[54] = acc66; tile[55] = acc67;
    tile[56] = acc70; tile[57] = acc71; tile[58] = acc72; tile[59] = acc73; tile[60] = acc74; tile[61] = acc75; tile[62] = acc76; tile[63] = acc77;
    storeTile(plan, 8, out, outBase, outRowStride, first, blockChannels);
  }
}

/** Computes four consecutive rows of the product for every channel of the range, in blocks of 8 channels. */
function multiplyFourRows(
  plan: GemmPlan,
  lhs: Int32Array,
  lhsBase: number,
  lhsRowWords: number,
  out: Int8Array,
  outBase: number,
  outRowStride: number,
  channelStart: number,
  channelCount: number,
): void {
  const weights = plan.weights;
  const rowWords = plan.rowWords;
  const tile = plan.tile;
  const row0 = lhsBase;
  const row1 = lhsBase + lhsRowWords;
  const row2 = lhsBase + 2 * lhsRowWords;
  const row3 = lhsBase + 3 * lhsRowWords;
  const lastChannel = channelStart + channelCount - 1;
  const blockChannels = channelCount < 8 ? channelCount : 8;
  // XS charges meter units for a declaration inside a loop body, so every local is declared here.
  let block, first, word;
  let channel0, channel1, channel2, channel3, channel4, channel5, channel6, channel7;
  let input0, input1, input2, input3, weight0, weight1, weight2, weight3, weight4, weight5, weight6, weight7;
  let x00, x01, x02, x03, x10, x11, x12, x13, x20, x21, x22, x23, x30, x31, x32, x33;
  let w00, w01, w02, w03, w10, w11, w12, w13, w20, w21, w22, w23, w30, w31, w32, w33;
  let w40, w41, w42, w43, w50, w51, w52, w53, w60, w61, w62, w63, w70, w71, w72, w73;
  let acc00, acc01, acc02, acc03, acc04, acc05, acc06, acc07, acc10, acc11, acc12, acc13, acc14, acc15, acc16, acc17;
  let acc20, acc21, acc22, acc23, acc24, acc25, acc26, acc27, acc30, acc31, acc32, acc33, acc34, acc35, acc36, acc37;

  for (block = 0; block < channelCount; block += 8) {
    // With 8 or more channels the last block ends at the last channel and
    // recomputes channels of the block before it. With fewer, the missing
    // weight rows repeat the last one, and only real channels are stored.
    if (channelCount < 8) first = channelStart;
    else if (block < channelCount - 8) first = channelStart + block;
    else first = channelStart + channelCount - 8;
    channel0 = first * rowWords;
    channel1 = (first + 1 < lastChannel ? first + 1 : lastChannel) * rowWords;
    channel2 = (first + 2 < lastChannel ? first + 2 : lastChannel) * rowWords;
    channel3 = (first + 3 < lastChannel ? first + 3 : lastChannel) * rowWords;
    channel4 = (first + 4 < lastChannel ? first + 4 : lastChannel) * rowWords;
    channel5 = (first + 5 < lastChannel ? first + 5 : lastChannel) * rowWords;
    channel6 = (first + 6 < lastChannel ? first + 6 : lastChannel) * rowWords;
    channel7 = (first + 7 < lastChannel ? first + 7 : lastChannel) * rowWords;
    acc00 = 0; acc01 = 0; acc02 = 0; acc03 = 0; acc04 = 0; acc05 = 0; acc06 = 0; acc07 = 0;
    acc10 = 0; acc11 = 0; acc12 = 0; acc13 = 0; acc14 = 0; acc15 = 0; acc16 = 0; acc17 = 0;
    acc20 = 0; acc21 = 0; acc22 = 0; acc23 = 0; acc24 = 0; acc25 = 0; acc26 = 0; acc27 = 0;
    acc30 = 0; acc31 = 0; acc32 = 0; acc33 = 0; acc34 = 0; acc35 = 0; acc36 = 0; acc37 = 0;
    for (word = 0; word < rowWords; word++) {
      input0 = lhs[row0 + word];
      input1 = lhs[row1 + word];
      input2 = lhs[row2 + word];
      input3 = lhs[row3 + word];
      weight0 = weights[channel0 + word];
      weight1 = weights[channel1 + word];
      weight2 = weights[channel2 + word];
      weight3 = weights[channel3 + word];
      weight4 = weights[channel4 + word];
      weight5 = weights[channel5 + word];
      weight6 = weights[channel6 + word];
      weight7 = weights[channel7 + word];
      x00 = (input0 << 24) >> 24; x01 = (input0 << 16) >> 24; x02 = (input0 << 8) >> 24; x03 = input0 >> 24;
      x10 = (input1 << 24) >> 24; x11 = (input1 << 16) >> 24; x12 = (input1 << 8) >> 24; x13 = input1 >> 24;
      x20 = (input2 << 24) >> 24; x21 = (input2 << 16) >> 24; x22 = (input2 << 8) >> 24; x23 = input2 >> 24;
      x30 = (input3 << 24) >> 24; x31 = (input3 << 16) >> 24; x32 = (input3 << 8) >> 24; x33 = input3 >> 24;
      w00 = (weight0 << 24) >> 24; w01 = (weight0 << 16) >> 24; w02 = (weight0 << 8) >> 24; w03 = weight0 >> 24;
      w10 = (weight1 << 24) >> 24; w11 = (weight1 << 16) >> 24; w12 = (weight1 << 8) >> 24; w13 = weight1 >> 24;
      w20 = (weight2 << 24) >> 24; w21 = (weight2 << 16) >> 24; w22 = (weight2 << 8) >> 24; w23 = weight2 >> 24;
      w30 = (weight3 << 24) >> 24; w31 = (weight3 << 16) >> 24; w32 = (weight3 << 8) >> 24; w33 = weight3 >> 24;
      w40 = (weight4 << 24) >> 24; w41 = (weight4 << 16) >> 24; w42 = (weight4 << 8) >> 24; w43 = weight4 >> 24;
      w50 = (weight5 << 24) >> 24; w51 = (weight5 << 16) >> 24; w52 = (weight5 << 8) >> 24; w53 = weight5 >> 24;
      w60 = (weight6 << 24) >> 24; w61 = (weight6 << 16) >> 24; w62 = (weight6 << 8) >> 24; w63 = weight6 >> 24;
      w70 = (weight7 << 24) >> 24; w71 = (weight7 << 16) >> 24; w72 = (weight7 << 8) >> 24; w73 = weight7 >> 24;
      acc00 += x00 * w00 + x01 * w01 + x02 * w02 + x03 * w03;
      acc01 += x00 * w10 + x01 * w11 + x02 * w12 + x03 * w13;
      acc02 += x00 * w20 + x01 * w21 + x02 * w22 + x03 * w23;
      acc03 += x00 * w30 + x01 * w31 + x02 * w32 + x03 * w33;
      acc04 += x00 * w40 + x01 * w41 + x02 * w42 + x03 * w43;
      acc05 += x00 * w50 + x01 * w51 + x02 * w52 + x03 * w53;
      acc06 += x00 * w60 + x01 * w61 + x02 * w62 + x03 * w63;
      acc07 += x00 * w70 + x01 * w71 + x02 * w72 + x03 * w73;
      acc10 += x10 * w00 + x11 * w01 + x12 * w02 + x13 * w03;
      acc11 += x10 * w10 + x11 * w11 + x12 * w12 + x13 * w13;
      acc12 += x10 * w20 + x11 * w21 + x12 * w22 + x13 * w23;
      acc13 += x10 * w30 + x11 * w31 + x12 * w32 + x13 * w33;
      acc14 += x10 * w40 + x11 * w41 + x12 * w42 + x13 * w43;
      acc15 += x10 * w50 + x11 * w51 + x12 * w52 + x13 * w53;
      acc16 += x10 * w60 + x11 * w61 + x12 * w62 + x13 * w63;
      acc17 += x10 * w70 + x11 * w71 + x12 * w72 + x13 * w73;
      acc20 += x20 * w00 + x21 * w01 + x22 * w02 + x23 * w03;
      acc21 += x20 * w10 + x21 * w11 + x22 * w12 + x23 * w13;
      acc22 += x20 * w20 + x21 * w21 + x22 * w22 + x23 * w23;
      acc23 += x20 * w30 + x21 * w31 + x22 * w32 + x23 * w33;
      acc24 += x20 * w40 + x21 * w41 + x22 * w42 + x23 * w43;
      acc25 += x20 * w50 + x21 * w51 + x22 * w52 + x23 * w53;
      acc26 += x20 * w60 + x21 * w61 + x22 * w62 + x23 * w63;
      acc27 += x20 * w70 + x21 * w71 + x22 * w72 + x23 * w73;
      acc30 += x30 * w00 + x31 * w01 + x32 * w02 + x33 * w03;
      acc31 += x30 * w10 + x31 * w11 + x32 * w12 + x33 * w13;
      acc32 += x30 * w20 + x31 * w21 + x32 * w22 + x33 * w23;
      acc33 += x30 * w30 + x31 * w31 + x32 * w32 + x33 * w33;
      acc34 += x30 * w40 + x31 * w41 + x32 * w42 + x33 * w43;
      acc35 += x30 * w50 + x31 * w51 + x32 * w52 + x33 * w53;
      acc36 += x30 * w60 + x31 * w61 + x32 * w62 + x33 * w63;
      acc37 += x30 * w70 + x31 * w71 + x32 * w72 + x33 * w73;
    }
    tile[0] = acc00; tile[1] = acc01; tile[2] = acc02; tile[3] = acc03; tile[4] = acc04; tile[5] = acc05; tile[6] = acc06; tile[7] = acc07;
    tile[8] = acc10; tile[9] = acc11; tile[10] = acc12; tile[11] = acc13; tile[12] = acc14; tile[13] = acc15; tile[14] = acc16; tile[15] = acc17;
    tile[16] = acc20; tile[17] = acc21; tile[18] = acc22; tile[19] = acc23; tile[20] = acc24; tile[21] = acc25; tile[22] = acc26; tile[23] = acc27;
    tile[24] = acc30; tile[25] = acc31; tile[26] = acc32; tile[27] = acc33; tile[28] = acc34; tile[29] = acc35; tile[30] = acc36; tile[31] = acc37;
    storeTile(plan, 4, out, outBase, outRowStride, first, blockChannels);
  }
}

/** Computes one row of the product for every channel of the range, in blocks of 8 channels. */
function multiplyOneRow(
  plan: GemmPlan,
  lhs: Int32Array,
  lhsBase: number,
  out: Int8Array,
  outBase: number,
  channelStart: number,
  channelCount: number,
): void {
  const weights = plan.weights;
  const rowWords = plan.rowWords;
  const tile = plan.tile;
  const row0 = lhsBase;
  const lastChannel = channelStart + channelCount - 1;
  const blockChannels = channelCount < 8 ? channelCount : 8;
  // XS charges meter units for a declaration inside a loop body, so every local is declared here.
  let block, first, word;
  let channel0, channel1, channel2, channel3, channel4, channel5, channel6, channel7;
  let input0, weight0, weight1, weight2, weight3, weight4, weight5, weight6, weight7;
  let x00, x01, x02, x03;
  let w00, w01, w02, w03, w10, w11, w12, w13, w20, w21, w22, w23, w30, w31, w32, w33;
  let w40, w41, w42, w43, w50, w51, w52, w53, w60, w61, w62, w63, w70, w71, w72, w73;
  let acc00, acc01, acc02, acc03, acc04, acc05, acc06, acc07;

  for (block = 0; block < channelCount; block += 8) {
    // With 8 or more channels the last block ends at the last channel and
    // recomputes channels of the block before it. With fewer, the missing
    // weight rows repeat the last one, and only real channels are stored.
    if (channelCount < 8) first = channelStart;
    else if (block < channelCount - 8) first = channelStart + block;
    else first = channelStart + channelCount - 8;
    channel0 = first * rowWords;
    channel1 = (first + 1 < lastChannel ? first + 1 : lastChannel) * rowWords;
    channel2 = (first + 2 < lastChannel ? first + 2 : lastChannel) * rowWords;
    channel3 = (first + 3 < lastChannel ? first + 3 : lastChannel) * rowWords;
    channel4 = (first + 4 < lastChannel ? first + 4 : lastChannel) * rowWords;
    channel5 = (first + 5 < lastChannel ? first + 5 : lastChannel) * rowWords;
    channel6 = (first + 6 < lastChannel ? first + 6 : lastChannel) * rowWords;
    channel7 = (first + 7 < lastChannel ? first + 7 : lastChannel) * rowWords;
    acc00 = 0; acc01 = 0; acc02 = 0; acc03 = 0; acc04 = 0; acc05 = 0; acc06 = 0; acc07 = 0;
    for (word = 0; word < rowWords; word++) {
      input0 = lhs[row0 + word];
      weight0 = weights[channel0 + word];
      weight1 = weights[channel1 + word];
      weight2 = weights[channel2 + word];
      weight3 = weights[channel3 + word];
      weight4 = weights[channel4 + word];
      weight5 = weights[channel5 + word];
      weight6 = weights[channel6 + word];
      weight7 = weights[channel7 + word];
      x00 = (input0 << 24) >> 24; x01 = (input0 << 16) >> 24; x02 = (input0 << 8) >> 24; x03 = input0 >> 24;
      w00 = (weight0 << 24) >> 24; w01 = (weight0 << 16) >> 24; w02 = (weight0 << 8) >> 24; w03 = weight0 >> 24;
      w10 = (weight1 << 24) >> 24; w11 = (weight1 << 16) >> 24; w12 = (weight1 << 8) >> 24; w13 = weight1 >> 24;
      w20 = (weight2 << 24) >> 24; w21 = (weight2 << 16) >> 24; w22 = (weight2 << 8) >> 24; w23 = weight2 >> 24;
      w30 = (weight3 << 24) >> 24; w31 = (weight3 << 16) >> 24; w32 = (weight3 << 8) >> 24; w33 = weight3 >> 24;
      w40 = (weight4 << 24) >> 24; w41 = (weight4 << 16) >> 24; w42 = (weight4 << 8) >> 24; w43 = weight4 >> 24;
      w50 = (weight5 << 24) >> 24; w51 = (weight5 << 16) >> 24; w52 = (weight5 << 8) >> 24; w53 = weight5 >> 24;
      w60 = (weight6 << 24) >> 24; w61 = (weight6 << 16) >> 24; w62 = (weight6 << 8) >> 24; w63 = weight6 >> 24;
      w70 = (weight7 << 24) >> 24; w71 = (weight7 << 16) >> 24; w72 = (weight7 << 8) >> 24; w73 = weight7 >> 24;
      acc00 += x00 * w00 + x01 * w01 + x02 * w02 + x03 * w03;
      acc01 += x00 * w10 + x01 * w11 + x02 * w12 + x03 * w13;
      acc02 += x00 * w20 + x01 * w21 + x02 * w22 + x03 * w23;
      acc03 += x00 * w30 + x01 * w31 + x02 * w32 + x03 * w33;
      acc04 += x00 * w40 + x01 * w41 + x02 * w42 + x03 * w43;
      acc05 += x00 * w50 + x01 * w51 + x02 * w52 + x03 * w53;
      acc06 += x00 * w60 + x01 * w61 + x02 * w62 + x03 * w63;
      acc07 += x00 * w70 + x01 * w71 + x02 * w72 + x03 * w73;
    }
    tile[0] = acc00; tile[1] = acc01; tile[2] = acc02; tile[3] = acc03; tile[4] = acc04; tile[5] = acc05; tile[6] = acc06; tile[7] = acc07;
    storeTile(plan, 1, out, outBase, 0, first, blockChannels);
  }
}

/**
 * Requantizes the accumulators of one tile (rows by channels, 8 channels a
 * tile row) and stores them to out[outBase + row * outRowStride + channel].
 * The forms are those of requantize.ts, which explains each step.
 */
function storeTile(
  plan: GemmPlan,
  rows: number,
  out: Int8Array,
  outBase: number,
  outRowStride: number,
  firstChannel: number,
  channels: number,
): void {
  const tile = plan.tile;
  const requantization = plan.requantization;
  const foldedBias = requantization.foldedBias;
  const multipliers = requantization.multipliers;
  const shifts = requantization.shifts;
  const forms = requantization.forms;
  const outputZeroPoint = plan.outputZeroPoint;
  const activationMin = plan.activationMin;
  const activationMax = plan.activationMax;
  const imul = Math.imul;
  let k, channel, form, index, indexEnd, outIndex, bias, acc, value;
  let multiplier, limb0, limb1, limb2, rightShift, roundingOffset, high, low, middle1, middle2, rounded;

  for (k = 0; k < channels; k++) {
    channel = firstChannel + k;
    form = forms[channel];
    bias = foldedBias[channel];
    multiplier = multipliers[channel];
    rightShift = -shifts[channel];
    roundingOffset = 1 << (rightShift - 1);
    outIndex = outBase + channel;
    // Tile rows are 8 accumulators apart.
    indexEnd = k + 8 * rows;
    if (form === NARROW_FORM) {
      limb0 = multiplier & 0x3ff;
      limb1 = (multiplier >> 10) & 0x7ff;
      limb2 = multiplier >> 21;
      for (index = k; index < indexEnd; index += 8) {
        acc = tile[index] + bias;
        middle1 = acc * limb1 + ((acc * limb0) >> 10);
        rounded = (acc * limb2 + ((middle1 + 0x100000) >> 11)) >> 10;
        value = ((rounded + roundingOffset + (rounded >> 31)) >> rightShift) + outputZeroPoint;
        if (value < activationMin) value = activationMin;
        else if (value > activationMax) value = activationMax;
        out[outIndex] = value;
        outIndex += outRowStride;
      }
    } else if (form === WIDE_FORM) {
      limb0 = multiplier & 0xffff;
      limb1 = multiplier >> 16;
      for (index = k; index < indexEnd; index += 8) {
        acc = tile[index] + bias;
        high = acc >> 16;
        low = acc & 0xffff;
        middle1 = high * limb0 + (imul(low, limb0) >>> 16);
        middle2 = low * limb1 + (middle1 & 0xffff);
        rounded = ((high * limb1 + (middle1 >> 16) + (middle2 >> 16)) << 1) + (((middle2 & 0xffff) + 0x4000) >> 15);
        value = ((rounded + roundingOffset + (rounded >> 31)) >> rightShift) + outputZeroPoint;
        if (value < activationMin) value = activationMin;
        else if (value > activationMax) value = activationMax;
        out[outIndex] = value;
        outIndex += outRowStride;
      }
    } else {
      for (index = k; index < indexEnd; index += 8) {
        value = requantizeExact(tile[index] + bias, requantization, channel) + outputZeroPoint;
        if (value < activationMin) value = activationMin;
        else if (value > activationMax) value = activationMax;
        out[outIndex] = value;
        outIndex += outRowStride;
      }
    }
  }
}
