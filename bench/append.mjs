#!/usr/bin/env node
// Benchmark: one `ipchains -A` and one `ipfwadm -a` call against
// `node -e 0`, the floor of any Node command, measured alternately in the
// same run inside a throwaway network namespace (shared machines are noisy:
// only the ratios mean much).
//
//   node bench/append.mjs [rounds]     (root; prints medians and the ratios)
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const rounds = Number(process.argv[2] ?? 40)
const here = fileURLToPath(import.meta.url)
const ipchains = process.env['LEGACYFW_BENCH_BIN'] ?? fileURLToPath(new URL('../bin/ipchains', import.meta.url))
const ipfwadm = fileURLToPath(new URL('../bin/ipfwadm', import.meta.url))

if (process.env['LEGACYFW_BENCH_INSIDE'] !== '1') {
  // Re-run this script inside a new network namespace; nothing touches the host's.
  const r = spawnSync('unshare', ['-n', process.execPath, here, String(rounds)], {
    stdio: 'inherit',
    env: { ...process.env, LEGACYFW_BENCH_INSIDE: '1' },
  })
  process.exit(r.status ?? 1)
}

const run = (argv) => {
  const start = process.hrtime.bigint()
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] })
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// A realistic starting point: 20-rule input lists.
for (let i = 0; i < 20; i++) {
  run([ipchains, '-A', 'input', '-s', `10.1.0.${i}`, '-j', 'ACCEPT'])
  run([ipfwadm, '-I', '-a', 'accept', '-S', `10.1.0.${i}`])
}
const floor = []
const append = []
const fwappend = []
for (let i = 0; i < rounds; i++) {
  const src = `10.2.${i >> 8}.${i & 255}`
  floor.push(run([process.execPath, '-e', '0']))
  append.push(run([ipchains, '-A', 'input', '-p', 'tcp', '-s', src, '-d', '0/0', '80', '-j', 'DENY']))
  fwappend.push(run([ipfwadm, '-I', '-a', 'deny', '-P', 'tcp', '-S', src, '-D', '0/0', '80']))
}
console.log(`node -e 0        median ${median(floor).toFixed(1)} ms`)
console.log(`ipchains -A      median ${median(append).toFixed(1)} ms`)
console.log(`ipfwadm -a       median ${median(fwappend).toFixed(1)} ms`)
console.log(`ratio ipchains -A / node -e 0: ${(median(append) / median(floor)).toFixed(2)} (goal <= 1.30, ${rounds} rounds)`)
console.log(`ratio ipfwadm -a / node -e 0: ${(median(fwappend) / median(floor)).toFixed(2)} (goal <= 1.30, ${rounds} rounds)`)
