// Runs a fuzz campaign: mutants of the fixture models, each loaded and
// invoked in a worker thread with the bounds-checked fuzz bundle. A watchdog
// per mutant terminates a worker that hangs and starts a fresh one, so one
// hang costs one mutant and never the campaign.

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { Worker } from "node:worker_threads";
import { REPOSITORY_ROOT } from "../bundle.js";
import { runModelOnXs, XsError } from "../xs/engine.js";
import { createMutant, loadFuzzModel } from "./mutants.js";
import type { MutantOutcome, MutantResult, WorkerSetup } from "./protocol.js";

const TFLM_FIXTURES = resolve(REPOSITORY_ROOT, "..", "shared", "fixtures", "tflm");

/**
 * The TFLM example models (mobilenet_v2 aside: one invoke takes too long for
 * a mutant loop) and one seanet case of each 16x8 operator.
 */
export const FIXTURE_MODELS = [
  ...["hello_world_int8", "micro_speech_quantized", "person_detect", "keyword_scrambled_8bit", "trained_lstm_int8", "dtln_noise_suppression"].map(
    (name) => ({ name, path: resolve(TFLM_FIXTURES, "models", `${name}.tflite`) }),
  ),
  ...["add", "conv", "leaky_relu", "pad", "quantize", "strided_slice", "sub", "transpose_conv"].map((op) => ({
    name: `seanet_${op}0`,
    path: resolve(TFLM_FIXTURES, "seanet", op, `${op}0.tflite`),
  })),
];

export interface CampaignOptions {
  bundlePath: string;
  seed: number;
  /** Maximum number of mutants. */
  count: number;
  /** Index of the first mutant, so that one failing mutant can be run alone. Default 0. */
  firstIndex?: number;
  /** Wall-clock limit of the mutant loop, in seconds. Infinity means no limit. */
  seconds: number;
  /** Worker threads run in parallel. */
  jobs: number;
  /** A load plus invoke slower than this, in ms, is a failure. */
  slowMilliseconds: number;
  /** A mutant still running after this many ms is a hang: its worker is terminated. */
  watchdogMilliseconds: number;
  /** Mutants that loaded on Node to run again on XS. */
  xsSample: number;
  models?: { name: string; path: string }[];
  /** Called about every progressSeconds with the figures so far. */
  onProgress?: (summary: CampaignSummary) => void;
  progressSeconds?: number;
}

/** One mutant whose XS run disagreed with Node. */
export interface XsMismatch {
  index: number;
  model: string;
  kind: string;
  node: string;
  xs: string;
}

export interface CampaignSummary {
  seed: number;
  mutants: number;
  ran: number;
  /** Rejected mutants by MicroqError code. */
  rejectedByCode: Record<string, number>;
  /** Failing mutants, in the order they finished. */
  failures: MutantOutcome[];
  /** Slowest load plus invoke that finished, in ms, and its mutant index. */
  maxMilliseconds: number;
  slowestIndex: number;
  /** Out-of-bounds typed array accesses summed over all mutants. */
  outOfBoundsAccesses: number;
  xsCompared: number;
  xsMismatches: XsMismatch[];
  elapsedSeconds: number;
}

/** Returns the failure kind of a finished outcome, or null when the outcome is acceptable. */
function classify(outcome: MutantOutcome, slowMilliseconds: number): MutantResult | null {
  if (outcome.result === "exception") return "exception";
  if (outcome.outOfBounds > 0) return "out-of-bounds";
  if (outcome.milliseconds > slowMilliseconds) return "slow";
  return null;
}

interface Slot {
  worker: Worker;
  index: number | null;
  timer: NodeJS.Timeout | undefined;
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignSummary> {
  const models = options.models ?? FIXTURE_MODELS;
  const setup: WorkerSetup = { bundlePath: options.bundlePath, seed: options.seed, models };
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const summary: CampaignSummary = {
    seed: options.seed,
    mutants: 0,
    ran: 0,
    rejectedByCode: {},
    failures: [],
    maxMilliseconds: 0,
    slowestIndex: -1,
    outOfBoundsAccesses: 0,
    xsCompared: 0,
    xsMismatches: [],
    elapsedSeconds: 0,
  };
  // Mutants kept for the XS comparison: the first that ran and the first rejected at load or invoke.
  const xsRan: MutantOutcome[] = [];
  const xsRejected: MutantOutcome[] = [];

  const firstIndex = options.firstIndex ?? 0;
  let nextIndex = firstIndex;
  let active = 0;
  let lastProgress = started;

  await new Promise<void>((finish, fail) => {
    const record = (outcome: MutantOutcome): void => {
      summary.mutants++;
      summary.outOfBoundsAccesses += outcome.outOfBounds;
      if (outcome.result !== "hang" && outcome.milliseconds > summary.maxMilliseconds) {
        summary.maxMilliseconds = outcome.milliseconds;
        summary.slowestIndex = outcome.index;
      }
      const failure = outcome.result === "hang" ? "hang" : classify(outcome, options.slowMilliseconds);
      if (failure !== null) {
        outcome.result = failure;
        delete outcome.inputs;
        delete outcome.outputs;
        summary.failures.push(outcome);
      } else if (outcome.result === "ran") {
        summary.ran++;
        if (xsRan.length < options.xsSample) xsRan.push(outcome);
      } else {
        const code = outcome.code ?? "UNKNOWN";
        summary.rejectedByCode[code] = (summary.rejectedByCode[code] ?? 0) + 1;
        if (xsRejected.length < options.xsSample) xsRejected.push(outcome);
      }
      const now = performance.now();
      if (options.onProgress !== undefined && now - lastProgress >= (options.progressSeconds ?? 5) * 1000) {
        lastProgress = now;
        summary.elapsedSeconds = (now - started) / 1000;
        options.onProgress(summary);
      }
    };

    const dispatch = (slot: Slot): void => {
      if (nextIndex >= firstIndex + options.count || performance.now() >= deadline) {
        slot.index = null;
        void slot.worker.terminate();
        active--;
        if (active === 0) finish();
        return;
      }
      const index = nextIndex++;
      slot.index = index;
      slot.timer = setTimeout(() => onHang(slot), options.watchdogMilliseconds);
      slot.worker.postMessage({ index });
    };

    const onHang = (slot: Slot): void => {
      const index = slot.index as number;
      const mutant = createMutantInfo(index);
      slot.worker.removeAllListeners();
      void slot.worker.terminate();
      record({ index, model: mutant.model, kind: mutant.kind, result: "hang", milliseconds: options.watchdogMilliseconds, outOfBounds: 0, message: `still running after ${options.watchdogMilliseconds} ms` });
      startWorker(slot);
    };

    const mutantModels = models.map((model) => loadFuzzModel(model.name, new Uint8Array(readFileSync(model.path))));
    const createMutantInfo = (index: number) => createMutant(mutantModels, options.seed, index);

    const startWorker = (slot: Slot | null): void => {
      const worker = new Worker(new URL("./worker.js", import.meta.url), {
        workerData: setup,
        resourceLimits: { maxOldGenerationSizeMb: 1024 },
      });
      const current: Slot = slot ?? { worker, index: null, timer: undefined };
      current.worker = worker;
      current.index = null;
      worker.on("message", (message: MutantOutcome | { ready: true }) => {
        if ("ready" in message) {
          dispatch(current);
          return;
        }
        clearTimeout(current.timer);
        record(message);
        dispatch(current);
      });
      worker.on("error", (error) => {
        clearTimeout(current.timer);
        if (current.index === null) {
          fail(error);
          return;
        }
        // An error outside the try block of the worker, such as running out of heap.
        const mutant = createMutantInfo(current.index);
        record({ index: current.index, model: mutant.model, kind: mutant.kind, result: "exception", milliseconds: 0, outOfBounds: 0, message: `worker died: ${error.message}` });
        worker.removeAllListeners();
        startWorker(current);
      });
    };

    for (let job = 0; job < options.jobs; job++) {
      active++;
      startWorker(null);
    }
  });

  if (options.xsSample > 0) {
    const mutantModels = models.map((model) => loadFuzzModel(model.name, new Uint8Array(readFileSync(model.path))));
    const ranShare = Math.min(xsRan.length, Math.max(Math.ceil(options.xsSample / 2), options.xsSample - xsRejected.length));
    const sample = [...xsRan.slice(0, ranShare), ...xsRejected.slice(0, options.xsSample - ranShare)];
    for (const outcome of sample) {
      const mismatch = await compareOnXs(createMutant(mutantModels, options.seed, outcome.index).bytes, outcome);
      summary.xsCompared++;
      if (mismatch !== null) summary.xsMismatches.push(mismatch);
    }
  }
  summary.elapsedSeconds = (performance.now() - started) / 1000;
  return summary;
}

function describe(outcome: { outputs?: Uint8Array[]; code?: string }): string {
  if (outcome.code !== undefined) return `rejected with ${outcome.code}`;
  return `outputs ${(outcome.outputs ?? []).map((bytes) => Buffer.from(bytes).toString("hex").slice(0, 64)).join(", ")}`;
}

/** Runs one mutant on XS with the shipped bundle and returns how it differs from the Node outcome, or null. */
async function compareOnXs(bytes: Uint8Array, outcome: MutantOutcome): Promise<XsMismatch | null> {
  let xs: string;
  try {
    const result = await runModelOnXs({ model: bytes, inputs: outcome.inputs ?? [], timeoutMs: 60000 });
    xs = describe({ outputs: result.outputs });
  } catch (error) {
    if (!(error instanceof XsError)) throw error;
    xs = error.code !== undefined ? describe({ code: error.code }) : `threw ${error.xsName}: ${error.message}`;
  }
  const node = describe(outcome);
  return node === xs ? null : { index: outcome.index, model: outcome.model, kind: outcome.kind, node, xs };
}
