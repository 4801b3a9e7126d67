// Bundles each command into one ES module under dist/, so a call loads a
// single file (Node startup dominates the run time of a legacy command).
import { build } from 'esbuild'
import { readdirSync } from 'node:fs'

const entries = readdirSync('src/cli').filter((f) => f.startsWith('entry-'))
await build({
  entryPoints: entries.map((f) => `src/cli/${f}`),
  outdir: 'dist',
  entryNames: '[name]',
  bundle: true,
  // One self-contained file per command: fewer modules to load at startup.
  splitting: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
})
