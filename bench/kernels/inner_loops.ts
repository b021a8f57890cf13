// Measures the inner-loop choices of kernels/gemm.ts and kernels/requantize.ts
// on XS, in isolation: meter units and wall time of
//   - the matrix product's tile shapes (1x8, 4x8 and 8x8 rows by channels),
//     each reading operands one int8 value at a time or as int32 words of
//     four values;
//   - the requantization of one accumulator: a call of
//     multiplyByQuantizedMultiplier against the inlined WIDE and NARROW forms.
// Every variant of a group must produce the same checksum, so a faulty
// variant cannot win. Variants run round-robin, so that load from other
// processes slows each alike; times are medians over the rounds.
//
// Usage: node build/bench/kernels/inner_loops.js [--rounds N]
// Build first: node scripts/build.mjs

import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

import { parseArgs, singleValue } from "../../tools/args.js";
import { REPOSITORY_ROOT } from "../../tools/bundle.js";
import { runXsModule } from "../../tools/xs/engine.js";

const RECORD_PREFIX = "#bench:";

type Operands = "int8" | "words";

/** One matrix product shape: rows (pixels) by channels, over depth int8 values. */
interface ProductShape {
  rows: number;
  depth: number;
  channels: number;
}

const PRODUCT_SHAPES: ProductShape[] = [
  { rows: 32, depth: 128, channels: 128 },
  { rows: 2304, depth: 8, channels: 16 },
];

const TILES: Array<[number, number]> = [
  [1, 8],
  [4, 8],
  [8, 8],
];

/** Extracts lane l (byte l in memory order) of an int32 word as a signed value. */
function laneExpression(word: string, lane: number): string {
  return lane === 3 ? `${word} >> 24` : `(${word} << ${24 - 8 * lane}) >> 24`;
}

/**
 * Returns the source of a function (input8, input32, weights8, weights32,
 * rows, depth, channels) that multiplies with tiles of tileRows x
 * tileChannels accumulators and returns a checksum of all accumulators.
 * Every local is declared at the top, as in gemm.ts.
 */
function tileFunction(name: string, tileRows: number, tileChannels: number, operands: Operands): string {
  const locals: string[] = ["row", "channel", "step"];
  const body: string[] = [];
  const accumulators: string[] = [];
  for (let r = 0; r < tileRows; r++) for (let c = 0; c < tileChannels; c++) accumulators.push(`acc${r}_${c}`);
  locals.push(...accumulators);
  const lanes = operands === "words" ? 4 : 1;

  body.push(`for (row = 0; row + ${tileRows} <= rows; row += ${tileRows}) {`);
  body.push(`  for (channel = 0; channel + ${tileChannels} <= channels; channel += ${tileChannels}) {`);
  body.push(`    ${accumulators.map((a) => `${a} = 0;`).join(" ")}`);
  for (let r = 0; r < tileRows; r++) {
    locals.push(`rowBase${r}`);
    body.push(`    rowBase${r} = (row + ${r}) * stepsPerRow;`);
  }
  for (let c = 0; c < tileChannels; c++) {
    locals.push(`channelBase${c}`);
    body.push(`    channelBase${c} = (channel + ${c}) * stepsPerRow;`);
  }
  body.push(`    for (step = 0; step < stepsPerRow; step++) {`);
  for (let r = 0; r < tileRows; r++) {
    if (operands === "words") {
      locals.push(`inputWord${r}`);
      body.push(`      inputWord${r} = input32[rowBase${r} + step];`);
      for (let l = 0; l < 4; l++) {
        locals.push(`x${r}_${l}`);
        body.push(`      x${r}_${l} = ${laneExpression(`inputWord${r}`, l)};`);
      }
    } else {
      locals.push(`x${r}_0`);
      body.push(`      x${r}_0 = input8[rowBase${r} + step];`);
    }
  }
  for (let c = 0; c < tileChannels; c++) {
    if (operands === "words") {
      locals.push(`weightWord${c}`);
      body.push(`      weightWord${c} = weights32[channelBase${c} + step];`);
      for (let l = 0; l < 4; l++) {
        locals.push(`w${c}_${l}`);
        body.push(`      w${c}_${l} = ${laneExpression(`weightWord${c}`, l)};`);
      }
    } else {
      locals.push(`w${c}_0`);
      body.push(`      w${c}_0 = weights8[channelBase${c} + step];`);
    }
  }
  for (let r = 0; r < tileRows; r++) {
    for (let c = 0; c < tileChannels; c++) {
      const products = Array.from({ length: lanes }, (_, l) => `x${r}_${l} * w${c}_${l}`).join(" + ");
      body.push(`      acc${r}_${c} += ${products};`);
    }
  }
  body.push(`    }`);
  body.push(`    checksum = (checksum + ${accumulators.join(" + ")}) | 0;`);
  body.push(`  }`);
  body.push(`}`);

  return [
    `function ${name}(input8, input32, weights8, weights32, rows, depth, channels) {`,
    `  const stepsPerRow = ${operands === "words" ? "depth >> 2" : "depth"};`,
    `  let checksum = 0;`,
    `  let ${locals.join(", ")};`,
    ...body.map((line) => `  ${line}`),
    `  return checksum;`,
    `}`,
  ].join("\n");
}

/** Requantization variants over `accumulators`, each returning the sum of its outputs. */
const REQUANTIZATION_SOURCE = `
function requantizeByCall(accumulators, multiplier, shift) {
  let sum = 0, i, value;
  for (i = 0; i < accumulators.length; i++) {
    value = microq.multiplyByQuantizedMultiplier(accumulators[i], multiplier, shift);
    sum = (sum + value) | 0;
  }
  return sum;
}
function requantizeWide(accumulators, multiplier, shift) {
  const imul = Math.imul;
  const limb0 = multiplier & 0xffff, limb1 = multiplier >> 16, rightShift = -shift, roundingOffset = 1 << (rightShift - 1);
  let sum = 0, i, acc, high, low, middle1, middle2, rounded, value;
  for (i = 0; i < accumulators.length; i++) {
    acc = accumulators[i];
    high = acc >> 16;
    low = acc & 0xffff;
    middle1 = high * limb0 + (imul(low, limb0) >>> 16);
    middle2 = low * limb1 + (middle1 & 0xffff);
    rounded = ((high * limb1 + (middle1 >> 16) + (middle2 >> 16)) << 1) + (((middle2 & 0xffff) + 0x4000) >> 15);
    value = (rounded + roundingOffset + (rounded >> 31)) >> rightShift;
    sum = (sum + value) | 0;
  }
  return sum;
}
function requantizeNarrow(accumulators, multiplier, shift) {
  const limb0 = multiplier & 0x3ff, limb1 = (multiplier >> 10) & 0x7ff, limb2 = multiplier >> 21;
  const rightShift = -shift, roundingOffset = 1 << (rightShift - 1);
  let sum = 0, i, acc, middle1, rounded, value;
  for (i = 0; i < accumulators.length; i++) {
    acc = accumulators[i];
    middle1 = acc * limb1 + ((acc * limb0) >> 10);
    rounded = (acc * limb2 + ((middle1 + 0x100000) >> 11)) >> 10;
    value = (rounded + roundingOffset + (rounded >> 31)) >> rightShift;
    sum = (sum + value) | 0;
  }
  return sum;
}
function requantizeNothing(accumulators, multiplier, shift) {
  let sum = 0, i;
  for (i = 0; i < accumulators.length; i++) sum = (sum + accumulators[i]) | 0;
  return sum;
}
`;

const REQUANTIZATION_COUNT = 20000;

function measurementModule(rounds: number): string {
  const lines: string[] = [`import * as microq from "./microq.mjs";`];
  const cases: string[] = [];
  let index = 0;
  for (const shape of PRODUCT_SHAPES) {
    const macs = shape.rows * shape.depth * shape.channels;
    const group = `product ${shape.rows} rows x ${shape.depth} depth x ${shape.channels} channels`;
    for (const [tileRows, tileChannels] of TILES) {
      for (const operands of ["int8", "words"] as Operands[]) {
        const name = `variant${index++}`;
        lines.push(tileFunction(name, tileRows, tileChannels, operands));
        const call = `${name}(input8, input32, weights8, weights32, ${shape.rows}, ${shape.depth}, ${shape.channels})`;
        cases.push(`{ group: ${JSON.stringify(group)}, name: "${tileRows}x${tileChannels} tile, ${operands}", units: ${macs}, run: () => ${call} },`);
      }
    }
  }
  for (const [name, fn] of [
    ["call of multiplyByQuantizedMultiplier", "requantizeByCall"],
    ["WIDE form inlined", "requantizeWide"],
    ["NARROW form inlined", "requantizeNarrow"],
    ["loop alone", "requantizeNothing"],
  ]) {
    cases.push(`{ group: "requantization, |acc| < 2^19", name: "${name}", units: ${REQUANTIZATION_COUNT}, run: () => ${fn}(accumulators, 1518500250, -9) },`);
  }
  lines.push(REQUANTIZATION_SOURCE);
  lines.push(`
const buffer = new ArrayBuffer(2304 * 128);
const input8 = new Int8Array(buffer);
const input32 = new Int32Array(buffer);
const weightBuffer = new ArrayBuffer(128 * 128);
const weights8 = new Int8Array(weightBuffer);
const weights32 = new Int32Array(weightBuffer);
for (let i = 0; i < input8.length; i++) input8[i] = ((i * 37) % 256) - 128;
for (let i = 0; i < weights8.length; i++) weights8[i] = ((i * 11) % 255) - 127;
const accumulators = new Int32Array(${REQUANTIZATION_COUNT});
for (let i = 0; i < accumulators.length; i++) accumulators[i] = ((i * 2654435761) | 0) >> 13;
const cases = [
  ${cases.join("\n  ")}
];
const results = cases.map((c) => {
  c.run();
  resetMeter(0, 0);
  const checksum = c.run();
  const meter = resetMeter(0, 0);
  return { group: c.group, name: c.name, units: c.units, checksum, meter, times: [] };
});
for (let round = 0; round < ${rounds}; round++) {
  for (let i = 0; i < cases.length; i++) {
    const start = performance.now();
    cases[i].run();
    results[i].times.push(performance.now() - start);
  }
}
for (const result of results) {
  const times = result.times.sort((a, b) => a - b);
  result.medianMs = times[times.length >> 1];
  delete result.times;
}
print(${JSON.stringify(RECORD_PREFIX)} + JSON.stringify(results));
`);
  return lines.join("\n");
}

interface VariantResult {
  group: string;
  name: string;
  units: number;
  checksum: number;
  meter: number;
  medianMs: number;
}

function formatResults(results: VariantResult[], rounds: number): string {
  const lines: string[] = [];
  let group = "";
  for (const result of results) {
    if (result.group !== group) {
      group = result.group;
      const unit = group.startsWith("product") ? "MAC" : "accumulator";
      lines.push("", `## ${group}`, "", `| variant | meter per ${unit} | ns per ${unit} (median of ${rounds}) |`, "|---|---:|---:|");
    }
    lines.push(`| ${result.name} | ${(result.meter / result.units).toFixed(2)} | ${((result.medianMs * 1e6) / result.units).toFixed(2)} |`);
  }
  return lines.join("\n").trimStart();
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), ["rounds"], []);
  const rounds = Number(singleValue(args, "rounds", "15"));
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`invalid --rounds ${rounds}: expected an integer of at least 1`);
  const bundlePath = resolve(REPOSITORY_ROOT, "dist", "microq.js");
  if (!existsSync(bundlePath)) throw new Error(`${bundlePath} not found: run node scripts/build.mjs first`);

  const files = { "main.mjs": measurementModule(rounds), "microq.mjs": readFileSync(bundlePath, "utf8") };
  const result = await runXsModule(files, "main.mjs", { timeoutMs: 1_800_000 });
  if (result.error !== undefined) throw new Error(`XS measurement failed: ${result.error.name}: ${result.error.message}`);
  const line = result.stdout.split("\n").find((text) => text.startsWith(RECORD_PREFIX));
  if (line === undefined) throw new Error(`XS measurement printed no results. Its stdout was ${JSON.stringify(result.stdout)}`);
  const results = JSON.parse(line.slice(RECORD_PREFIX.length)) as VariantResult[];

  // The requantization group excludes "loop alone", which only sums the accumulators.
  for (const group of new Set(results.map((r) => r.group))) {
    const members = results.filter((r) => r.group === group && r.name !== "loop alone");
    const checksums = new Set(members.map((r) => r.checksum));
    if (checksums.size !== 1) {
      throw new Error(`variants of "${group}" disagree: checksums ${members.map((r) => `${r.name} ${r.checksum}`).join(", ")}`);
    }
  }
  console.log(formatResults(results, rounds));
}

main().catch((error: unknown) => {
  console.error(`bench/kernels/inner_loops: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
