#!/usr/bin/env node
// Benchmark: the lab gateway's forwarding rate with a block list (issue 13),
// in throwaway namespaces (lan - gw - wan; the host is never touched), all in
// one run:
//
//   policy   N rules `ipchains -A input -s NET -j DENY` (NETs the traffic
//            never comes from, so every packet is checked against all of
//            them) and `ipchains -A forward -s 192.168.1.0/24 -j MASQ`
//   none     no firewall at all in gw
//   masq     masquerading alone, the least nft can do for the policy (one
//            masquerade rule): the price of connection tracking, which
//            every gateway that masquerades pays
//   iptables the same policy as iptables-nft rules (iptables-nft-restore):
//            the block list in mangle PREROUTING (2.2's input chain sees
//            every arriving packet), MASQUERADE in nat POSTROUTING
//   legacyfw the ipchains script, loaded with `legacyfw run`
//
// For N = 0, 100, 1000, 5000: TCP with iperf3 (one stream) and 64-byte UDP
// frames (18-byte payloads, unlimited rate; packets per second the receiver
// got), a few seconds per point (the machine is shared), each point the best
// of LEGACYFW_BENCH_REPEATS (2) runs alternating with the other gateways.
//
// Then `legacyfw run` and `legacyfw translate` of the 5000-rule script with
// this build and with a baseline build (LEGACYFW_BASELINE=<checkout>, e.g.
// the main branch built elsewhere), alternating, medians.
//
//   node bench/forwarding.mjs [seconds per point] [rounds]   (root)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WAN, benchLab } from './lab.mjs'

const seconds = Number(process.argv[2] ?? 3)
const rounds = Number(process.argv[3] ?? 3)
const SIZES = [0, 100, 1000, 5000]
const legacyfw = fileURLToPath(new URL('../bin/legacyfw', import.meta.url))
const baseline = process.env['LEGACYFW_BASELINE'] ? join(process.env['LEGACYFW_BASELINE'], 'bin/legacyfw') : undefined
const { ns, inNs, up, down } = benchLab(`lfw-fwd-${process.pid}`)

const must = (argv, input) => {
  const r = spawnSync(argv[0], argv.slice(1), { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`)
  return r.stdout
}
const timed = (argv, mustSucceed = true) => {
  const start = process.hrtime.bigint()
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  if (mustSucceed && r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// Networks no test packet comes from: 10.0.0.0/24, 10.0.1.0/24, ...
const nets = (n) => Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`)
const ipchainsScript = (n) =>
  `#!/bin/sh\n${nets(n)
    .map((net) => `ipchains -A input -s ${net} -j DENY`)
    .join('\n')}\nipchains -A forward -s 192.168.1.0/24 -j MASQ\n`
const iptablesRules = (n) =>
  [
    '*mangle',
    ...nets(n).map((net) => `-A PREROUTING -s ${net} -j DROP`),
    'COMMIT',
    '*nat',
    '-A POSTROUTING -s 192.168.1.0/24 -o wan0 -j MASQUERADE',
    'COMMIT',
    '',
  ].join('\n')

const MASQ_ONLY =
  'table ip masq { chain post { type nat hook postrouting priority srcnat; oifname "wan0" ip saddr 192.168.1.0/24 masquerade; }; }\n'

const flush = () => {
  must(inNs('gw', ['nft', 'flush', 'ruleset']))
  spawnSync('ip', ['netns', 'exec', ns.gw, 'conntrack', '-F'], { stdio: 'ignore' })
}

// iperf3 server in wan for one test, client in lan: TCP Mbit/s, or UDP packets/s received.
const iperf = (udp) => {
  const server = inNs('wan', ['iperf3', '-s', '-1', '-D', '-B', WAN])
  must(server)
  spawnSync('sleep', ['0.3'])
  const args = udp ? ['-u', '-l', '18', '-b', '0'] : []
  const out = JSON.parse(must(inNs('lan', ['iperf3', '-c', WAN, '-t', String(seconds), '-J', ...args])))
  if (udp) {
    const sum = out.end.sum
    return (sum.packets - sum.lost_packets) / sum.seconds / 1000
  }
  return out.end.sum_received.bits_per_second / 1e6
}
const measure = () => ({ tcp: iperf(false), udp: iperf(true) })

// Shared machines only ever slow a point down: each is measured `repeats`
// times, alternating with the others of its size, and the best counts.
const repeats = Number(process.env['LEGACYFW_BENCH_REPEATS'] ?? 2)
const best = (xs) => ({ tcp: Math.max(...xs.map((x) => x.tcp)), udp: Math.max(...xs.map((x) => x.udp)) })

const dir = mkdtempSync(join(tmpdir(), 'lfw-fwd-'))
const rows = []
try {
  // Without a firewall nothing masquerades: wan routes the replies back itself.
  up({ wanRoutesLan: true })
  const none = []
  const masq = []
  for (const n of SIZES) {
    const script = join(dir, `block-${n}.sh`)
    writeFileSync(script, ipchainsScript(n))
    const got = { iptables: [], legacyfw: [] }
    for (let i = 0; i < repeats; i++) {
      flush()
      if (must(inNs('gw', ['nft', 'list', 'ruleset'])).trim() !== '') throw new Error('gw has a ruleset left')
      none.push(measure())
      must(inNs('gw', ['nft', '-f', '-']), MASQ_ONLY)
      masq.push(measure())
      flush()
      must(inNs('gw', ['iptables-nft-restore']), iptablesRules(n))
      got.iptables.push(measure())
      flush()
      must(inNs('gw', [legacyfw, 'run', script]))
      const listed = must(inNs('gw', [fileURLToPath(new URL('../bin/ipchains', import.meta.url)), '-L', 'input', '-n']))
        .split('\n')
        .filter((l) => l.startsWith('DENY ')).length
      if (listed !== n) throw new Error(`legacyfw run left ${listed} input rules, not ${n}`)
      got.legacyfw.push(measure())
    }
    rows.push({ n, name: 'iptables-nft', ...best(got.iptables) }, { n, name: 'legacyfw', ...best(got.legacyfw) })
  }
  const ref = best(none)
  rows.unshift({ n: '-', name: 'no firewall', ...ref }, { n: '-', name: 'nft masquerade only', ...best(masq) })

  console.log(`| rules | gateway | TCP Mbit/s | % of none | 64-byte UDP kpps | % of none |`)
  console.log(`|---|---|---|---|---|---|`)
  for (const r of rows)
    console.log(
      `| ${r.n} | ${r.name} | ${r.tcp.toFixed(0)} | ${((100 * r.tcp) / ref.tcp).toFixed(0)}% | ${r.udp.toFixed(1)} | ${((100 * r.udp) / ref.udp).toFixed(0)}% |`,
    )

  // Loading and translating the 5000-rule script, this build and the baseline, alternating.
  const big = join(dir, 'block-5000.sh')
  const builds = [['this build', legacyfw], ...(baseline ? [['baseline', baseline]] : [])]
  const times = new Map(builds.map(([name]) => [name, { run: [], translate: [] }]))
  for (let i = 0; i < rounds; i++)
    for (const [name, bin] of builds) {
      flush()
      times.get(name).run.push(timed(inNs('gw', [bin, 'run', big])))
      times.get(name).translate.push(timed([bin, 'translate', '--no-mirror', big]))
    }
  for (const [name, t] of times)
    console.log(
      `${name}: legacyfw run 5000 rules median ${median(t.run).toFixed(0)} ms, translate median ${median(t.translate).toFixed(0)} ms (${rounds} rounds)`,
    )
} finally {
  down()
  rmSync(dir, { recursive: true, force: true })
}
