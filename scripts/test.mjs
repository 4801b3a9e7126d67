// npm test: build, lint, run every suite with tap, and end with one plain
// line "N passed, N failed" counting each test case (a top-level t.test or
// assertion of a test file; the lint, `npm run lint`, is one more case).
// Skipped or todo cases count as failed: a check that did not run has not
// passed. So does a network namespace the tests made and left behind
// (newNetns logs each one it makes): it is reported, then deleted.
// The runtimes the tests start log to a private syslog socket of this run
// (LEGACYFW_SYSLOG, unless set), never to the host's /dev/log or kernel log.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'

const build = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' })
if (build.status !== 0) process.exit(build.status ?? 1)

const lint = spawnSync('npm', ['run', '--silent', 'lint'], { stdio: ['ignore', 'inherit', 'inherit'] })
const linted = lint.status === 0
console.log(`# lint (npm run lint): ${linted ? 'ok' : 'not ok'}`)

const files = process.argv.slice(2)
const logDir = mkdtempSync(join(tmpdir(), 'lfw-test-'))
const netnsLog = join(logDir, 'netns')
// A stream socket, which the runtime connects to as syslog(3) would when a datagram one is refused; lines are dropped.
const syslogPath = join(logDir, 'syslog')
const syslog = createServer((connection) => connection.resume())
await new Promise((resolve, reject) => syslog.once('error', reject).listen(syslogPath, resolve))
const tap = spawn('node_modules/.bin/tap', ['run', '--reporter=tap', '--no-color', ...files], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, LEGACYFW_NETNS_LOG: netnsLog, LEGACYFW_SYSLOG: process.env['LEGACYFW_SYSLOG'] ?? syslogPath },
})

/** The namespaces this run's tests made that still exist (other runs on the machine have their own log). */
const leftBehind = () => {
  let made = []
  try {
    made = readFileSync(netnsLog, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
  const existing = new Set(
    spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.split(' ')[0]),
  )
  return made.filter((name) => existing.has(name))
}

// As deleteNetns (src/runtime/netns.ts) does: end the processes left in it, then delete it.
const deleteNetns = (name) => {
  for (const pid of spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL')
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', name])
}
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
  const left = leftBehind()
  if (left.length) {
    console.log(`not ok - network namespaces left behind by the tests: ${left.join(' ')}`)
    failed++
    left.forEach(deleteNetns)
  }
  syslog.close()
  rmSync(logDir, { recursive: true, force: true })
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed ? 1 : 0)
})
