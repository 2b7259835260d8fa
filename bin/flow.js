#!/usr/bin/env node
// Entry point of the `flow` command: runs the compiled CLI (npm run build makes dist/).
import { exit, main } from '../dist/cli/main.js';
main(process.argv).then(exit);
