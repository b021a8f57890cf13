// A small argument parser for the microq commands: positional arguments,
// repeatable --name value options and boolean flags.

import { UsageError } from "./cli_errors.js";

export interface ParsedArgs {
  positional: string[];
  values: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: readonly string[], valueOptions: readonly string[], flagOptions: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const equals = arg.indexOf("=");
    const name = equals >= 0 ? arg.slice(2, equals) : arg.slice(2);
    if (flagOptions.includes(name)) {
      if (equals >= 0) throw new UsageError(`option --${name} takes no value`);
      flags.add(name);
    } else if (valueOptions.includes(name)) {
      let value: string | undefined;
      if (equals >= 0) {
        value = arg.slice(equals + 1);
      } else {
        // A following option is not taken as the value: in "--input --output x.bin" the
        // value of --input is missing. A value that starts with "--" can be passed as --name=value.
        value = argv[i + 1]?.startsWith("--") ? undefined : argv[++i];
      }
      if (value === undefined || value === "") throw new UsageError(`option --${name} needs a value`);
      const list = values.get(name) ?? [];
      list.push(value);
      values.set(name, list);
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return { positional, values, flags };
}

/** Returns the single value of an option, or the default; throws UsageError when it is repeated. */
export function singleValue(args: ParsedArgs, name: string, defaultValue: string): string {
  const list = args.values.get(name);
  if (list === undefined) return defaultValue;
  if (list.length > 1) throw new UsageError(`option --${name} may be given once`);
  return list[0];
}
