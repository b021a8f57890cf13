// npm run sim -- <example> [--until-ms N]: runs an example's host simulation and
// prints what the device would print. See tools/sim/README.md.
import { simulateExample, simulatedExamples } from "./simulate.js";

const USAGE = "usage: npm run sim -- <example> [--until-ms N]";

async function main(args: string[]): Promise<number> {
  const names: string[] = [];
  let untilMs: number | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "--until-ms") {
      untilMs = Number(args[++index]);
      if (!Number.isFinite(untilMs) || untilMs < 0) {
        console.error(`invalid --until-ms ${args[index]}: give a number of milliseconds of at least 0\n${USAGE}`);
        return 2;
      }
    } else if (arg === "--help" || arg === "-h") {
      console.log(`${USAGE}\nexamples: ${simulatedExamples().join(", ")}`);
      return 0;
    } else {
      names.push(arg);
    }
  }
  if (names.length !== 1) {
    console.error(`${USAGE}\nexamples: ${simulatedExamples().join(", ")}`);
    return 2;
  }
  const result = await simulateExample(names[0], { untilMs });
  for (const line of result.lines) console.log(line);
  const reason = result.reason === "no timers" ? "no timers left" : "time limit reached";
  console.log(`sim: stopped at ${result.virtualMs} ms of virtual time (${reason})`);
  return 0;
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (error: Error) => {
    console.error(`sim: ${error.message}`);
    process.exit(1);
  },
);
