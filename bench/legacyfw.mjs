#!/usr/bin/env node
// Benchmark of issue 5's goals, measured alternately in one run inside a
// throwaway network namespace (shared machines are noisy: compare within a run):
//
//   - `legacyfw run` of a 300-rule ipchains script against the same 300
//     rules as `iptables-nft` commands (the modern peer), each from an empty
//     ruleset: goal ratio <= 1.0;
//   - `legacyfw translate` of the largest corpus script: goal < 2 s.
//
//   node bench/legacyfw.mjs [rounds]     (root; prints medians and the ratio)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { corpusPath } from '../test/helpers/corpus-dir.mjs'

const rounds = Number(process.argv[2] ?? 5)
const here = fileURLToPath(import.meta.url)
const legacyfw = fileURLToPath(new URL('../bin/legacyfw', import.meta.url))
const CORPUS = corpusPath('ipchains')

if (process.env['LEGACYFW_BENCH_INSIDE'] !== '1') {
  const r = spawnSync('unshare', ['-n', process.execPath, here, String(rounds)], {
    stdio: 'inherit',
    env: { ...process.env, LEGACYFW_BENCH_INSIDE: '1' },
  })
  process.exit(r.status ?? 1)
}

const sh = (argv, mustSucceed = true) => {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status === null || (mustSucceed && r.status !== 0)) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`)
  return r.stdout
}
const time = (argv, mustSucceed = true) => {
  const start = process.hrtime.bigint()
  sh(argv, mustSucceed)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// 300 rules of the kind a real script has: services per source network, in
// three chains, a few with logging.
const rules = Array.from({ length: 300 }, (_, i) => {
  const net = `10.${(i >> 4) & 255}.${(i & 15) * 16}.0/20`
  const port = [22, 25, 53, 80, 110, 143, 443, 993][i % 8]
  const proto = i % 8 === 2 ? 'udp' : 'tcp'
  const chain = ['input', 'forward', 'output'][i % 3]
  const accept = i % 5 !== 0
  return { net, port, proto, chain, accept, log: i % 50 === 0 }
})
const ipchains = rules.map(
  (r) => `ipchains -A ${r.chain} -p ${r.proto} -s ${r.net} -d 0/0 ${r.port} -j ${r.accept ? 'ACCEPT' : 'DENY'}${r.log ? ' -l' : ''}`,
)
const iptables = rules.map((r) => {
  const chain = r.chain.toUpperCase()
  const match = `-p ${r.proto} -s ${r.net} --dport ${r.port}`
  return `${r.log ? `iptables-nft -A ${chain} ${match} -j LOG\n` : ''}iptables-nft -A ${chain} ${match} -j ${r.accept ? 'ACCEPT' : 'DROP'}`
})

const dir = mkdtempSync(join(tmpdir(), 'lfw-bench-'))
try {
  const ipchainsScript = join(dir, 'rc.firewall-ipchains')
  const iptablesScript = join(dir, 'rc.firewall-iptables')
  writeFileSync(ipchainsScript, `#!/bin/sh\n${ipchains.join('\n')}\n`)
  writeFileSync(iptablesScript, `#!/bin/sh\n${iptables.join('\n')}\n`)

  const run = []
  const modern = []
  for (let i = 0; i < rounds; i++) {
    sh(['nft', 'flush', 'ruleset'])
    modern.push(time(['bash', iptablesScript]))
    sh(['nft', 'flush', 'ruleset'])
    run.push(time([legacyfw, 'run', ipchainsScript]))
  }
  const listed = sh([fileURLToPath(new URL('../bin/ipchains', import.meta.url)), '-L', '-n'])
    .split('\n')
    .filter((l) => /^(ACCEPT|DENY) /.test(l)).length
  if (listed !== 300) throw new Error(`legacyfw run left ${listed} rules, not 300`)

  // The largest corpus script (by size), translated as the corpus goldens do
  // it (with "start"; its exit status is the script's own).
  const largest = readdirSync(CORPUS)
    .filter((f) => f.endsWith('.sh'))
    .map((f) => join(CORPUS, f))
    .sort((a, b) => statSync(b).size - statSync(a).size)[0]
  const translate = []
  for (let i = 0; i < rounds; i++) translate.push(time([legacyfw, 'translate', '--no-mirror', largest, 'start'], false))
  const made = sh([legacyfw, 'translate', '--no-mirror', largest, 'start'], false)
    .split('\n')
    .filter((l) => /counter name "r\d+"/.test(l)).length

  const ratio = median(run) / median(modern)
  console.log(`300 rules as iptables-nft commands  median ${median(modern).toFixed(0)} ms`)
  console.log(`legacyfw run, 300 ipchains rules     median ${median(run).toFixed(0)} ms`)
  console.log(`ratio legacyfw run / iptables-nft: ${ratio.toFixed(2)} (goal <= 1.00, ${rounds} rounds)`)
  console.log(`legacyfw translate ${largest.split('/').pop()} start (${made} rules)  median ${median(translate).toFixed(0)} ms (goal < 2000 ms)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
