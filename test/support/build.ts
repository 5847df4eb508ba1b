/**
 * vitest globalSetup: compiles src/ to dist/ once, before any test file runs. Tests run the CLI
 * (bin/dsmip6.js imports dist/) and the lab daemons from dist/; building here rather than in each
 * file means no test ever sees dist/ half rewritten by another file's build.
 */
import { spawnSync } from 'node:child_process';

export default function build(): void {
  const r = spawnSync('npm', ['run', 'build', '--silent'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed before the tests:\n${r.stdout}${r.stderr}`);
}
