// All 127 seanet cases on the XS engine through the rollup bundle: the
// output must equal TFLM's (oracle) exactly. One XS run per operator.

import { test } from "uvu";
import * as assert from "uvu/assert";
import { BUNDLE_FILE, RECORD_PREFIX, arrayBufferExpression, readBundle } from "../../tools/xs/model-module.js";
import { runXsModule } from "../../tools/xs/engine.js";
import { defaultBundlePath } from "../../tools/xs/paths.js";
import { seanetCases, seanetOps, valuesOf } from "./seanet_cases.js";

for (const op of seanetOps()) {
  test(`seanet ${op}: TFLM's output exactly on XS`, async () => {
    const cases = seanetCases(op);
    const entries = cases.map(
      (c) => `[${JSON.stringify(c.name)}, ${arrayBufferExpression(c.model)}, [${c.inputs.map(arrayBufferExpression).join(", ")}]]`,
    );
    const source = `import { Interpreter } from "./${BUNDLE_FILE}";
const cases = [
${entries.join(",\n")}
];
for (const [name, model, inputs] of cases) {
  try {
    const interpreter = new Interpreter(model);
    inputs.forEach((bytes, i) => interpreter.setInput(i, new Uint8Array(bytes)));
    interpreter.invoke();
    print("${RECORD_PREFIX}output " + name + " " + Base64.encode(interpreter.outputs[0].bytes));
  } catch (error) {
    print("${RECORD_PREFIX}error " + name + " " + error.message);
  }
}
`;
    const result = await runXsModule({ [BUNDLE_FILE]: readBundle(defaultBundlePath), "main.mjs": source }, "main.mjs", {
      timeoutMs: 300_000,
    });
    assert.is(result.status, 0, `XS run failed: ${result.stderr} ${result.error?.message ?? ""}`);
    const printed = new Map<string, Uint8Array>();
    const failures: string[] = [];
    for (const line of result.stdout.split("\n")) {
      if (line.startsWith(`${RECORD_PREFIX}error `)) failures.push(line.slice(RECORD_PREFIX.length + "error ".length));
      if (!line.startsWith(`${RECORD_PREFIX}output `)) continue;
      const [, name, data] = line.split(" ");
      printed.set(name, new Uint8Array(Buffer.from(data ?? "", "base64")));
    }
    for (const c of cases) {
      const actual = printed.get(c.name);
      if (actual === undefined) continue;
      const expected = valuesOf(c.oracle, c.outputType);
      const values = valuesOf(actual, c.outputType);
      const differing = values.filter((v, i) => v !== expected[i]).length + Math.abs(values.length - expected.length);
      if (differing > 0) failures.push(`${c.name}: ${differing} elements differ from TFLM's output`);
    }
    assert.equal(failures, [], `seanet ${op} failures on XS`);
    assert.is(printed.size, cases.length, `XS ran every ${op} case`);
  });
}

test.run();
