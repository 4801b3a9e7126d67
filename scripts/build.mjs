// Bundles each command into one CommonJS file under dist/ (a call then loads
// a single file; Node startup dominates the run time of a legacy command).
// bin/boot.cjs runs the bundles with a V8 code cache.
import { build } from 'esbuild'
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs'

// Built aside, then each bundle renamed into place: a command running
// meanwhile finds either the old bundle or the new one, never none.
const staging = `dist.build-${process.pid}`
const entries = readdirSync('src/cli').filter((f) => f.startsWith('entry-'))
await build({
  entryPoints: entries.map((f) => `src/cli/${f}`),
  outdir: staging,
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

const read = (file) => {
  try {
    return readFileSync(file)
  } catch {
    return undefined
  }
}

mkdirSync('dist', { recursive: true })
const built = readdirSync(staging)
// An unchanged bundle keeps its code cache (a warmed one, see warm-caches.mjs).
for (const file of built)
  if (!read(`dist/${file}`)?.equals(read(`${staging}/${file}`))) {
    renameSync(`${staging}/${file}`, `dist/${file}`)
    rmSync(`dist/${file}.cache`, { force: true })
  }
// Bundles of removed entries go, and every file that is neither a bundle nor its cache.
for (const file of readdirSync('dist')) if (!built.includes(file.replace(/\.cache$/, ''))) rmSync(`dist/${file}`, { force: true })
rmSync(staging, { recursive: true, force: true })
