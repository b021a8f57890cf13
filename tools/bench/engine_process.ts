// Runs a benchmark in an engine child process (microq-xs-host or Node) and
// reads its records from stdout as they arrive, so that progress shows while
// a long run is still going.
//
// Record lines: "#microq-bench:progress TEXT", "#microq-bench:result JSON"
// with the ModelBenchResult, and "#microq-bench:error JSON" with the name,
// message and code of a value the benchmark threw. Other lines are kept as
// the engine's log.

import { spawn } from "node:child_process";
import { basename } from "node:path";
import type { ModelBenchResult } from "../../bench/harness/types.js";

export const BENCH_RECORD_PREFIX = "#microq-bench:";

/** A value thrown by the benchmark inside an engine, as the engine described it. */
export interface EngineThrownError {
  name: string;
  message: string;
  /** The `code` of a MicroqError. */
  code?: string;
}

/** An error thrown inside an engine, such as a MicroqError of the runtime, with its `code`. */
export class BenchEngineError extends Error {
  readonly code?: string;
  /** The error's name inside the engine, for example "InvalidModelError". */
  readonly engineErrorName: string;

  constructor(engine: string, thrown: EngineThrownError) {
    super(`${thrown.message} (on ${engine})`);
    this.name = "BenchEngineError";
    this.engineErrorName = thrown.name;
    if (thrown.code !== undefined) {
      this.code = thrown.code;
    }
  }
}

/** Collects the records of one benchmark, from a child process or from QuickJS. */
export class RecordCollector {
  private result: ModelBenchResult | undefined;
  private thrown: EngineThrownError | undefined;
  private readonly logLines: string[] = [];

  constructor(
    private readonly engine: string,
    private readonly onProgress?: (message: string) => void,
  ) {}

  /** Handles one record of `kind` ("progress", "result" or "error") with its text. */
  record(kind: string, text: string): void {
    if (kind === "progress") {
      this.onProgress?.(text);
    } else if (kind === "result") {
      this.result = JSON.parse(text) as ModelBenchResult;
    } else if (kind === "error") {
      this.thrown = JSON.parse(text) as EngineThrownError;
    } else {
      this.logLines.push(`${BENCH_RECORD_PREFIX}${kind} ${text}`);
    }
  }

  /** Handles one line of engine output: a record, or a log line. */
  line(text: string): void {
    if (!text.startsWith(BENCH_RECORD_PREFIX)) {
      this.logLines.push(text);
      return;
    }
    const body = text.slice(BENCH_RECORD_PREFIX.length);
    const space = body.indexOf(" ");
    this.record(space < 0 ? body : body.slice(0, space), space < 0 ? "" : body.slice(space + 1));
  }

  /** Returns the result, or throws what the engine threw or an error saying that no result came. */
  finish(): ModelBenchResult {
    if (this.thrown !== undefined) {
      throw new BenchEngineError(this.engine, this.thrown);
    }
    if (this.result === undefined) {
      const log = this.logLines.join("\n").trim();
      throw new Error(`the benchmark on ${this.engine} ended without a result${log === "" ? "" : `; it printed: ${log.split("\n")[0]}`}`);
    }
    return this.result;
  }
}

export interface EngineProcessOptions {
  /** Engine name for messages, such as "xs". */
  engine: string;
  /** Program name for messages. The default is the file name of the program. */
  programName?: string;
  cwd?: string;
  onProgress?: (message: string) => void;
}

/**
 * Runs `program` with `args` and returns the benchmark result it prints.
 * Rejects with a BenchEngineError when the benchmark threw, and with an Error
 * naming the exit status and the first stderr line when the program failed.
 */
export function runEngineProcess(program: string, args: readonly string[], options: EngineProcessOptions): Promise<ModelBenchResult> {
  const collector = new RecordCollector(options.engine, options.onProgress);
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let pending = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      pending += chunk;
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        collector.line(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
    });
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    child.on("error", (error) => reject(new Error(`could not start ${program}: ${error.message}`)));
    child.on("close", (status, signal) => {
      if (pending !== "") collector.line(pending);
      const name = options.programName ?? basename(program);
      const exit = signal !== null ? `signal ${signal}` : `status ${status}`;
      let result: ModelBenchResult;
      try {
        result = collector.finish();
      } catch (error) {
        const failedQuietly = status === 0 && signal === null;
        if (error instanceof BenchEngineError || failedQuietly) {
          reject(error);
        } else {
          const firstLine = stderr.trim().split("\n")[0] || "nothing on stderr";
          reject(new Error(`the benchmark on ${options.engine} failed: ${name} exited with ${exit}: ${firstLine}`));
        }
        return;
      }
      if (status !== 0) {
        reject(new Error(`the benchmark on ${options.engine} failed: ${name} exited with ${exit} after printing its result`));
        return;
      }
      resolve(result);
    });
  });
}
