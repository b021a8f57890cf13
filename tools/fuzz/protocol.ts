// Messages between the fuzz campaign (tools/fuzz/campaign.ts) and its worker threads.

export interface WorkerSetup {
  bundlePath: string;
  seed: number;
  models: { name: string; path: string }[];
}

export interface WorkerRequest {
  index: number;
}

/** Outcome kind of one mutant: "ran" and "rejected" are acceptable, the others are failures. */
export type MutantResult = "ran" | "rejected" | "exception" | "slow" | "hang" | "out-of-bounds";

export interface MutantOutcome {
  index: number;
  model: string;
  kind: string;
  result: MutantResult;
  /** MicroqError code of a rejected mutant. */
  code?: string;
  /** "load" or "invoke": where a rejected or failing mutant stopped. */
  stage?: string;
  message?: string;
  /** Load plus invoke time, in ms, measured inside the worker. */
  milliseconds: number;
  outOfBounds: number;
  outOfBoundsSamples?: string[];
  /** Input tensor bytes of a mutant that loaded. */
  inputs?: Uint8Array[];
  /** Output tensor bytes of a mutant that ran. */
  outputs?: Uint8Array[];
}
