// Worker thread of the fuzzer: builds each requested mutant, loads and
// invokes it with the fuzz bundle and posts the outcome. The parent kills
// and replaces the worker when one mutant runs past the watchdog limit.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";
import type { Microq } from "../bundle.js";
import type { OutOfBoundsLog } from "./checked_views.js";
import { createMutant, loadFuzzModel } from "./mutants.js";
import type { MutantOutcome, WorkerRequest, WorkerSetup } from "./protocol.js";

const setup = workerData as WorkerSetup;
const microq = (await import(pathToFileURL(setup.bundlePath).href)) as Microq;
const outOfBounds = (globalThis as unknown as { __microqOutOfBounds?: OutOfBoundsLog }).__microqOutOfBounds;
if (outOfBounds === undefined) {
  throw new Error(`${setup.bundlePath} has no bounds-checked views: rebuild it with buildFuzzBundle()`);
}
const models = setup.models.map((model) => loadFuzzModel(model.name, new Uint8Array(readFileSync(model.path))));

/** Fills input bytes with a pattern that depends on the mutant, so inputs are neither constant nor all zero. */
function fillInputs(inputs: readonly { bytes: Uint8Array }[], index: number): void {
  for (const input of inputs) {
    for (let i = 0; i < input.bytes.length; i++) input.bytes[i] = (i * 31 + index * 7) & 0xff;
  }
}

function runMutant(index: number): MutantOutcome {
  const mutant = createMutant(models, setup.seed, index);
  outOfBounds!.count = 0;
  outOfBounds!.samples.length = 0;
  const outcome: MutantOutcome = { index, model: mutant.model, kind: mutant.kind, result: "ran", milliseconds: 0, outOfBounds: 0 };
  const start = performance.now();
  let stage = "load";
  try {
    const interpreter = new microq.Interpreter(mutant.bytes);
    stage = "invoke";
    fillInputs(interpreter.inputs, index);
    outcome.inputs = interpreter.inputs.map((input) => input.bytes.slice());
    interpreter.invoke();
    outcome.outputs = interpreter.outputs.map((output) => output.bytes.slice());
  } catch (error) {
    if (error instanceof microq.MicroqError) {
      outcome.result = "rejected";
      outcome.code = error.code;
    } else {
      outcome.result = "exception";
      outcome.message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    outcome.stage = stage;
    if (outcome.message === undefined && error instanceof Error) outcome.message = error.message;
  }
  outcome.milliseconds = performance.now() - start;
  outcome.outOfBounds = outOfBounds!.count;
  if (outOfBounds!.count > 0) outcome.outOfBoundsSamples = outOfBounds!.samples.slice();
  return outcome;
}

parentPort!.on("message", (request: WorkerRequest) => {
  parentPort!.postMessage(runMutant(request.index));
});
parentPort!.postMessage({ ready: true });
