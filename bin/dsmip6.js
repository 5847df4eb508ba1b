#!/usr/bin/env node
// Entry point of the `dsmip6` command. The TypeScript sources are compiled to dist/ by
// `npm run build`, which `npm ci` runs through the `prepare` script.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('dsmip6: dist/ is missing; run `npm run build` (npm ci does it for you)\n');
  process.exit(1);
}
// `dsmip6 ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { run } = await import(main.href);
process.exitCode = await run(process.argv.slice(2));
