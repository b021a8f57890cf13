#!/usr/bin/env node
// Command-line entry point; the commands are compiled from tools/ into build/.
import { main } from "../build/tools/cli.js";

process.exitCode = await main(process.argv.slice(2));
