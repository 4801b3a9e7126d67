// npm test: build, lint, run every suite with tap, and end with one plain
// line "N passed, N failed" counting each test case (a top-level t.test or
// assertion of a test file; the lint, `npm run lint`, is one more case).
// Skipped or todo cases count as failed: a check that did not run has not
// passed.
import { spawn, spawnSync } from 'node:child_process'
import { createInterface } from 'node:readline'

const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

const lint = spawnSync('npm', ['run', '--silent', 'lint'], { stdio: ['ignore', 'inherit', 'inherit'] })
const linted = lint.status === 0
console.log(`# lint (npm run lint): ${linted ? 'ok' : 'not ok'}`)

const files = process.argv.slice(2)
const tap = spawn('node_modules/.bin/tap', ['run', '--reporter=tap', '--no-color', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
let passed = 0
let failed = 0
const lines = createInterface({ input: tap.stdout })
lines.on('line', (line) => {
  process.stdout.write(`${line}\n`)
  const m = /^ {4}(not )?ok \d+/.exec(line)
  if (!m) return
  if (m[1] || /#\s*(SKIP|TODO)/i.test(line)) failed++
  else passed++
})
tap.on('close', (code) => {
  if (code !== 0 && failed === 0) failed++
  if (linted) passed++
  else failed++
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed ? 1 : 0)
})
