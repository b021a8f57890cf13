// Every Moddable manifest in manifests/ and examples/: it parses as JSON, every relative
// path it includes or names under modules, data and resources exists, paths outside the
// repository are Moddable SDK paths ($(MODDABLE)/...), every Resource that a device
// main.ts opens is listed, and creation blocks use only XS's creation settings.
import fs from "node:fs";
import path from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";

import { REPOSITORY_ROOT, loadBundle } from "../../tools/bundle.js";
import { buildInspectReport } from "../../tools/commands/inspect.js";
import { moddableCreation } from "../../tools/moddable/creation.js";
import { loadManifest, summarizeManifest } from "../../tools/sim/manifest.js";

function manifestFiles(): string[] {
  const files = [path.join(REPOSITORY_ROOT, "manifests", "manifest.json")];
  const examples = path.join(REPOSITORY_ROOT, "examples");
  for (const name of fs.readdirSync(examples).sort()) {
    const file = path.join(examples, name, "manifest.json");
    if (fs.existsSync(file)) files.push(file);
  }
  return files;
}

const CREATION_NUMBERS: Record<string, string[] | null> = {
  static: null,
  stack: null,
  chunk: ["initial", "incremental"],
  heap: ["initial", "incremental"],
  keys: ["initial", "incremental", "available", "name", "symbol"],
};

function checkCreation(file: string, creation: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(creation)) {
    if (key === "main") {
      assert.type(value, "string", `${file}: creation.main`);
      continue;
    }
    assert.ok(key in CREATION_NUMBERS, `${file}: creation.${key} is not an XS creation setting`);
    const fields = CREATION_NUMBERS[key];
    const entries = fields === null ? [[key, value]] : Object.entries(value as Record<string, unknown>);
    for (const [field, number] of entries) {
      if (fields !== null) assert.ok(fields.includes(field as string), `${file}: creation.${key}.${field} is unknown`);
      assert.ok(Number.isInteger(number), `${file}: creation.${key} ${field} = ${number}`);
      assert.ok((number as number) >= 0, `${file}: creation.${key} ${field} = ${number}`);
    }
  }
}

test("manifest files found", () => {
  const files = manifestFiles();
  assert.ok(files.length >= 2, files.join(", "));
  assert.ok(fs.existsSync(files[0]), files[0]);
});

for (const file of manifestFiles()) {
  const label = path.relative(REPOSITORY_ROOT, file);

  test(`${label}: paths exist`, () => {
    JSON.parse(fs.readFileSync(file, "utf8"));
    const summary = summarizeManifest(file);
    assert.equal(summary.missing, [], `${label}: entries that name no file`);
    for (const sdkPath of summary.sdkPaths) {
      assert.ok(sdkPath.startsWith("$(MODDABLE)/") || sdkPath.startsWith("$(MODULES)/"), `${label}: ${sdkPath}`);
    }
    for (const manifest of summary.manifests) {
      if (manifest.json.creation !== undefined) checkCreation(manifest.file, manifest.json.creation);
    }
    const microq = summary.modules.find((module) => module.name === "microq");
    assert.ok(microq, `${label}: the module "microq" is not mapped (include manifests/manifest.json)`);
    assert.is(microq.file, path.join(REPOSITORY_ROOT, "dist", "microq.js"));
  });

  const main = path.join(path.dirname(file), "main.ts");
  if (fs.existsSync(main)) {
    test(`${label}: main and resources listed`, () => {
      const summary = summarizeManifest(file);
      assert.ok(summary.modules.some((module) => module.name === "main" && module.file === main), `${label}: ./main`);
      const includes = loadManifest(file).includes.map((included) => included.file);
      assert.ok(includes.includes(path.join(REPOSITORY_ROOT, "manifests", "manifest.json")), `${label}: include`);
      const opened = [...fs.readFileSync(main, "utf8").matchAll(/new Resource\(\s*"([^"]+)"\s*\)/g)].map((match) => match[1]);
      const listed = summary.resources.map((resource) => resource.name);
      for (const name of opened) assert.ok(listed.includes(name), `${label}: Resource "${name}" is not under data or resources`);
    });
  }
}

test("each example's creation block is what inspect --moddable gives for its model", async () => {
  const microq = await loadBundle();
  // The example's model is the .tflite file its manifest's data names first.
  for (const file of manifestFiles().slice(1)) {
    const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as { data: Record<string, string | string[]>; creation: unknown };
    const first = ([] as string[]).concat(manifest.data["*"])[0];
    const model = path.resolve(path.dirname(file), `${first}.tflite`);
    assert.ok(fs.existsSync(model), `${model} exists`);
    const report = await buildInspectReport(microq, model, new Uint8Array(fs.readFileSync(model)));
    assert.equal(manifest.creation, moddableCreation(report).creation, path.relative(REPOSITORY_ROOT, file));
  }
});

test.run();
