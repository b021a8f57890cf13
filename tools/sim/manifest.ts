// Reads Moddable manifests the way the host simulation and the manifest tests need:
// the `include` chain (relative paths only; $(MODDABLE) paths belong to the SDK and
// are listed, not read) and the files that `modules`, `data` and `resources` name.
//
// Path matching follows the mcconfig rules that this project uses. A path is relative to
// the manifest that names it. A name without an extension matches any file with that base
// name (`./main` matches main.ts, `./model` matches model.tflite), and a `*` in the last
// part of a path is a wildcard. The target key "*" keeps each file's own name, and another
// key renames the file but keeps its extension.
import fs from "node:fs";
import path from "node:path";

/** A manifest and the manifests it includes, depth first. */
export interface LoadedManifest {
  file: string;
  json: ManifestJson;
  /** Included manifests inside this repository, loaded. */
  includes: LoadedManifest[];
  /** Included manifests outside it (paths that start with $(MODDABLE) or another variable), as written. */
  sdkIncludes: string[];
}

export interface ManifestJson {
  include?: string | string[];
  modules?: Record<string, string | string[]>;
  preload?: string | string[];
  data?: Record<string, string | string[]>;
  resources?: Record<string, string | string[]>;
  creation?: Record<string, unknown>;
  platforms?: Record<string, ManifestJson & { warning?: string; error?: string }>;
  [property: string]: unknown;
}

/** One file that a `modules`, `data` or `resources` entry names. */
export interface ManifestFile {
  /** The name on the device: the module specifier or the Resource path. */
  name: string;
  /** Absolute path of the source file. */
  file: string;
}

/** A manifest entry that names no existing file. */
export interface MissingPath {
  manifest: string;
  property: string;
  path: string;
}

const MODULE_EXTENSIONS = [".ts", ".js", ".c", ".cc", ".cpp", ".h", ".m"];

export function toList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function isSdkPath(entry: string): boolean {
  return entry.startsWith("$(");
}

/** Reads a manifest and, recursively, the manifests it includes by relative path. */
export function loadManifest(file: string, seen: Set<string> = new Set()): LoadedManifest {
  const resolved = path.resolve(file);
  if (seen.has(resolved)) {
    throw new Error(`manifest ${resolved} includes itself through its include chain: remove the cycle`);
  }
  seen.add(resolved);
  let json: ManifestJson;
  try {
    json = JSON.parse(fs.readFileSync(resolved, "utf8")) as ManifestJson;
  } catch (error) {
    throw new Error(`failed to read manifest ${resolved}: ${(error as Error).message}`);
  }
  const includes: LoadedManifest[] = [];
  const sdkIncludes: string[] = [];
  for (const entry of toList(json.include)) {
    if (isSdkPath(entry)) {
      sdkIncludes.push(entry);
    } else {
      includes.push(loadManifest(path.resolve(path.dirname(resolved), entry), seen));
    }
  }
  seen.delete(resolved);
  return { file: resolved, json, includes, sdkIncludes };
}

/** Returns the files that one source path matches, or an empty list. */
export function matchSource(manifestFile: string, source: string, extensions?: string[]): string[] {
  const full = path.resolve(path.dirname(manifestFile), source);
  const folder = path.dirname(full);
  const pattern = path.basename(full);
  if (!fs.existsSync(folder) || !fs.statSync(folder).isDirectory()) return [];
  const names = fs.readdirSync(folder).filter((name) => fs.statSync(path.join(folder, name)).isFile());
  const hasExtension = path.extname(pattern) !== "" && !pattern.endsWith("*");
  const regex = new RegExp(`^${pattern.split("*").map(escapeRegExp).join(".*")}$`);
  const matched = names.filter((name) => {
    const extension = path.extname(name);
    if (extensions !== undefined && !extensions.includes(extension)) return false;
    if (pattern.includes("*")) return regex.test(name) || regex.test(name.slice(0, name.length - extension.length));
    return hasExtension ? name === pattern : name.slice(0, name.length - extension.length) === pattern;
  });
  return matched.sort().map((name) => path.join(folder, name));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

function namedFiles(
  manifest: LoadedManifest,
  property: "modules" | "data" | "resources",
  missing: MissingPath[],
): ManifestFile[] {
  const files: ManifestFile[] = [];
  const table = manifest.json[property] ?? {};
  for (const [target, value] of Object.entries(table)) {
    if (target === "~") continue;
    for (const source of toList(value)) {
      if (isSdkPath(source)) continue;
      const matched = matchSource(manifest.file, source, property === "modules" ? MODULE_EXTENSIONS : undefined);
      if (matched.length === 0) {
        missing.push({ manifest: manifest.file, property, path: source });
      }
      for (const file of matched) {
        const extension = property === "modules" ? "" : path.extname(file);
        const base = path.basename(file, path.extname(file));
        let name: string;
        if (target === "*") {
          name = property === "modules" ? base : path.basename(file);
        } else {
          name = (target.includes("*") ? target.replace("*", base) : target) + extension;
        }
        files.push({ name, file });
      }
    }
  }
  return files;
}

export interface ManifestSummary {
  /** Module name to source file, over the whole include chain. */
  modules: ManifestFile[];
  /** Resource name (with extension) to file, from `data` and `resources`. */
  resources: ManifestFile[];
  /** Entries that name no existing file. */
  missing: MissingPath[];
  /** $(...) includes and sources, which belong to the Moddable SDK and are not checked here. */
  sdkPaths: string[];
  /** Every manifest in the chain, this one first. */
  manifests: LoadedManifest[];
}

/** Collects modules and resources over a manifest's include chain, and the paths that name nothing. */
export function summarizeManifest(file: string): ManifestSummary {
  const root = loadManifest(file);
  const summary: ManifestSummary = { modules: [], resources: [], missing: [], sdkPaths: [], manifests: [] };
  const visit = (manifest: LoadedManifest): void => {
    summary.manifests.push(manifest);
    summary.sdkPaths.push(...manifest.sdkIncludes);
    const sections: ManifestJson[] = [manifest.json, ...Object.values(manifest.json.platforms ?? {})];
    for (const section of sections) {
      const view: LoadedManifest = { ...manifest, json: section };
      summary.modules.push(...namedFiles(view, "modules", summary.missing));
      summary.resources.push(...namedFiles(view, "data", summary.missing));
      summary.resources.push(...namedFiles(view, "resources", summary.missing));
      for (const property of ["modules", "data", "resources"] as const) {
        for (const value of Object.values(section[property] ?? {})) {
          summary.sdkPaths.push(...toList(value).filter(isSdkPath));
        }
      }
    }
    manifest.includes.forEach(visit);
  };
  visit(root);
  return summary;
}
