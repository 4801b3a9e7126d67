// Bundles each command into one CommonJS file under dist/ (a call then loads
// a single file; Node startup dominates the run time of a legacy command).
// bin/boot.cjs runs the bundles with a V8 code cache.
import { build } from 'esbuild'
import { readdirSync, rmSync } from 'node:fs'

rmSync('dist', { recursive: true, force: true })
const entries = readdirSync('src/cli').filter((f) => f.startsWith('entry-'))
await build({
  entryPoints: entries.map((f) => `src/cli/${f}`),
  outdir: 'dist',
  entryNames: '[name]',
  bundle: true,
  splitting: false,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.cjs' },
  // import.meta.url has no CommonJS equivalent built in.
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__importMetaUrl' },
  logLevel: 'warning',
})
