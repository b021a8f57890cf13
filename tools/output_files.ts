// Checking and writing the --output files of microq run. Every path is
// checked before the model runs. The outputs are written only once all of
// them are computed, each regular file through a temporary file in the same
// folder that is then renamed, so a failed write leaves no partial set.

import { accessSync, chmodSync, constants, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { OutputFileError } from "./cli_errors.js";
import { openDescriptor } from "./model_files.js";

/** A file that microq run reads, for the check that no output overwrites it. */
export interface ReadFile {
  /** Name of the file in messages, for example "the model m.tflite" or "input 1 file in.bin". */
  description: string;
  path: string;
}

/** An --output path that passed the checks. */
export interface OutputTarget {
  index: number;
  /** The path as given on the command line, for messages. */
  path: string;
  /**
   * "file" for a regular file, new or existing, which is written through a temporary file
   * and a rename. "stream" for a character device or FIFO, such as /dev/null, or a socket
   * named as an open file descriptor, such as /dev/stdout, which is written in place.
   */
  kind: "file" | "stream";
  /** For a socket, the file descriptor to write, because Linux cannot open a socket by path. */
  descriptor: number | null;
  /** The path with symbolic links resolved. A rename there keeps a symbolic link given as the output. */
  realPath: string;
  /** Permission bits of the file it replaces, or null for a new file. */
  mode: number | null;
}

/** Returns the reason and advice for a failed write or check, by errno code. */
function describeFailure(code: string | undefined): string {
  switch (code) {
    case "ENOENT":
      return "its folder does not exist (ENOENT); create the folder or pass another path";
    case "ENOTDIR":
      return "a part of the path is not a folder (ENOTDIR); pass another path";
    case "EISDIR":
      return "it is a folder (EISDIR); pass a file path";
    case "ENOSPC":
      return "no space left on the device (ENOSPC); free some space or pass a path on another disk";
    case "EDQUOT":
      return "the disk quota is exhausted (EDQUOT); free some space or pass a path on another disk";
    case "EACCES":
    case "EPERM":
      return `permission denied (${code}); pass a path in a folder you can write to`;
    case "EROFS":
      return "the file system is read-only (EROFS); pass a path on a writable disk";
    default:
      return `the system reported ${code ?? "an unknown error"}; check the path`;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch (error) {
    if (errorCode(error) === "ENOENT") return null;
    throw error;
  }
}

function realPathOrNull(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    // /dev/stdin on a pipe resolves to "pipe:[N]", which is not a path.
    return null;
  }
}

function isSameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** Checks one --output path and returns its target, or throws OutputFileError. */
function checkOutputPath(path: string, index: number): OutputTarget {
  const label = `output ${index} file ${path}`;
  let stat: Stats | null;
  try {
    stat = statOrNull(path);
  } catch (error) {
    throw new OutputFileError(`${label} cannot be written: ${describeFailure(errorCode(error))}`);
  }

  if (stat !== null && stat.isDirectory()) {
    throw new OutputFileError(`${label} is a folder; pass a file path`);
  }
  if (stat !== null && (stat.isCharacterDevice() || stat.isFIFO())) {
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      throw new OutputFileError(`${label} cannot be written: ${describeFailure(errorCode(error))}`);
    }
    return { index, path, kind: "stream", descriptor: null, realPath: realPathOrNull(path) ?? resolve(path), mode: null };
  }
  const descriptor = openDescriptor(path);
  if (stat !== null && stat.isSocket() && descriptor !== null) {
    return { index, path, kind: "stream", descriptor, realPath: resolve(path), mode: null };
  }
  if (stat !== null && !stat.isFile()) {
    throw new OutputFileError(`${label} is not a regular file, character device, FIFO or standard output; pass a file path`);
  }

  // A new or existing regular file: its folder must exist and be writable, for the temporary file and the rename.
  const folder = stat === null ? dirname(resolve(path)) : dirname(realpathSync(path));
  let folderStat: Stats | null;
  try {
    folderStat = statOrNull(folder);
  } catch (error) {
    throw new OutputFileError(`${label} cannot be written: ${describeFailure(errorCode(error))}`);
  }
  if (folderStat === null) {
    throw new OutputFileError(`${label} cannot be written: folder ${folder} does not exist; create it or pass another path`);
  }
  if (!folderStat.isDirectory()) {
    throw new OutputFileError(`${label} cannot be written: ${folder} is not a folder; pass another path`);
  }
  try {
    accessSync(folder, constants.W_OK);
  } catch (error) {
    throw new OutputFileError(`${label} cannot be written: folder ${folder} is not writable (${errorCode(error)}); pass a path in a folder you can write to`);
  }
  const realPath = stat === null ? join(realpathSync(folder), basename(path)) : realpathSync(path);
  return { index, path, kind: "file", descriptor: null, realPath, mode: stat === null ? null : stat.mode & 0o7777 };
}

/**
 * Checks every --output path before the model runs: its folder exists and is writable, it
 * is not a folder, and it is neither the same file as one of `readFiles` nor as another
 * output. Files are the same when their resolved real paths or their device and inode
 * numbers are equal, which also catches hard links. Throws OutputFileError naming the path.
 */
export function checkOutputPaths(outputPaths: readonly string[], readFiles: readonly ReadFile[]): OutputTarget[] {
  const targets = outputPaths.map((path, index) => checkOutputPath(path, index));

  const read = readFiles.map((file) => ({ ...file, realPath: realPathOrNull(file.path), stat: statOrNull(file.path) }));
  for (const target of targets) {
    if (target.kind !== "file") continue;
    const stat = statOrNull(target.realPath);
    const label = `output ${target.index} file ${target.path}`;
    for (const file of read) {
      const samePath = file.realPath !== null && file.realPath === target.realPath;
      const sameInode = stat !== null && file.stat !== null && file.stat.isFile() && isSameFile(stat, file.stat);
      if (samePath || sameInode) {
        throw new OutputFileError(`${label} is the same file as ${file.description}; pass another output path so that it is not overwritten`);
      }
    }
    const earlier = targets.find((other) => other.index < target.index && other.kind === "file" && other.realPath === target.realPath);
    if (earlier !== undefined) {
      throw new OutputFileError(`${label} is the same file as output ${earlier.index} file ${earlier.path}; pass one path per output`);
    }
  }
  return targets;
}

/** Returns a name for a temporary file next to `realPath`, hidden and unique to this process. */
function temporaryPath(realPath: string): string {
  const suffix = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  return join(dirname(realPath), `.${basename(realPath)}.${suffix}.tmp`);
}

function removeQuietly(paths: readonly string[]): void {
  for (const path of paths) rmSync(path, { force: true });
}

/**
 * Writes `outputs[i]` to `targets[i]`. Each regular file is first written in full to a
 * temporary file in its folder, then devices, FIFOs and sockets are written, and only then are the
 * temporary files renamed over the outputs. A failed write removes the temporary files and
 * throws OutputFileError, so no regular output file changes.
 * NOTE: when a rename fails after an earlier one succeeded, the earlier outputs stay replaced.
 */
export function writeOutputFiles(targets: readonly OutputTarget[], outputs: readonly Uint8Array[]): void {
  const files = targets.filter((target) => target.kind === "file").map((target) => ({ target, temporary: temporaryPath(target.realPath) }));
  const written: string[] = [];
  let current: OutputTarget | undefined;
  try {
    for (const { target, temporary } of files) {
      current = target;
      writeFileSync(temporary, outputs[target.index], { flag: "wx" });
      written.push(temporary);
      if (target.mode !== null) chmodSync(temporary, target.mode);
    }
    for (const target of targets.filter((candidate) => candidate.kind === "stream")) {
      current = target;
      writeFileSync(target.descriptor ?? target.path, outputs[target.index]);
    }
    for (const { target, temporary } of files) {
      current = target;
      renameSync(temporary, target.realPath);
      written.splice(written.indexOf(temporary), 1);
    }
  } catch (error) {
    removeQuietly(written);
    const label = current === undefined ? "output files" : `output ${current.index} file ${current.path}`;
    throw new OutputFileError(`could not write ${label}: ${describeFailure(errorCode(error))}`);
  }
}
