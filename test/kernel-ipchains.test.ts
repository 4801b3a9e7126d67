// The state contract against the real kernel, in namespaces made here:
// concurrent commands serialise without losing updates, a rejected command
// changes nothing at all, and an edit keeps the counters of the rules it
// does not touch.
import t from 'tap'
import { type CounterRow, LAN_ADDRS, WAN, counterRows, packetsAndBytes, withLab } from './helpers/lab.ts'
import { checkConcurrentAdds, checkRefusedLeaveRuleset, inNetns, pingLoopback, requireRootAndNft, ruleset, withNetns } from './helpers/netns.ts'

const IPCHAINS = new URL('../bin/ipchains', import.meta.url).pathname

const ipchains = (ns: string, ...args: string[]) => inNetns(ns, [IPCHAINS, ...args])

/** The counters of `ipchains -L chain -n -v -x`. */
const counters = (ns: string, chain: string): CounterRow[] => counterRows(ipchains(ns, '-L', chain, '-n', '-v', '-x').stdout)

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.test('concurrent commands serialise and lose no update', async (t) => {
    await withNetns('conc', async (ns) => {
      await checkConcurrentAdds(
        t,
        ns,
        24,
        (i, source) => [IPCHAINS, i % 2 ? '-A' : '-I', 'input', '-s', source, '-j', 'DENY'],
        () => counters(ns, 'input').map((r) => r.rest),
      )
    })
  })

  t.test('a rejected command changes nothing', async (t) => {
    await withNetns('reject', async (ns) => {
      ipchains(ns, '-N', 'ppp-in')
      ipchains(ns, '-A', 'input', '-p', 'tcp', '-d', '0/0', '80', '-j', 'ppp-in')
      ipchains(ns, '-A', 'ppp-in', '-s', '192.168.1.0/24', '-j', 'ACCEPT')
      checkRefusedLeaveRuleset(t, ns, IPCHAINS, [
        ['-A', 'input', '-j', 'nosuch'],
        ['-A', 'nosuch', '-j', 'ACCEPT'],
        ['-D', 'input', '7'],
        ['-D', 'input', '-s', '1.2.3.4', '-j', 'DENY'],
        ['-I', 'input', '9', '-j', 'ACCEPT'],
        ['-R', 'input', '5', '-j', 'ACCEPT'],
        ['-X', 'ppp-in'],
        ['-N', 'ppp-in'],
        ['-P', 'ppp-in', 'DENY'],
        ['-A', 'input', '-p', 'tcp', '-y', '-f'],
        ['-A', 'input', '-s', '1.2.3.4', '-s', '5.6.7.8'],
        ['-A', 'forward', '-j', 'REDIRECT', '8080', '-p', 'tcp'],
        ['-F', 'nosuch'],
      ])
    })
  })

  t.test('an edit keeps the counters of the rules it does not touch', async (t) => {
    await withNetns('count', async (ns) => {
      ipchains(ns, '-A', 'input', '-p', 'icmp', '-s', '127.0.0.1', '-j', 'ACCEPT')
      ipchains(ns, '-A', 'input', '-p', 'tcp', '-s', '10.0.0.1', '-j', 'DENY')
      ipchains(ns, '-A', 'output', '-p', 'icmp', '-d', '127.0.0.1')
      pingLoopback(ns, 5)
      const [icmpIn] = counters(ns, 'input')
      const [icmpOut] = counters(ns, 'output')
      t.ok(icmpIn && icmpIn.pkts >= 10, `input counted the echo requests and replies (${icmpIn?.pkts})`)
      t.ok(icmpOut && icmpOut.pkts >= 10, `output counted them too (${icmpOut?.pkts})`)
      const edits = [
        ['-I', 'input', '-p', 'udp', '-j', 'ACCEPT'],
        ['-D', 'input', '-p', 'tcp', '-s', '10.0.0.1', '-j', 'DENY'],
        ['-A', 'input', '-p', 'tcp', '-j', 'REJECT'],
        ['-N', 'extra'],
        ['-A', 'input', '-j', 'extra'],
        ['-R', 'input', '1', '-p', 'udp', '-j', 'DENY'],
        ['-P', 'input', 'DENY'],
        ['-P', 'input', 'ACCEPT'],
        ['-M', '-S', '7200', '10', '60'],
      ]
      for (const args of edits) t.equal(ipchains(ns, ...args).status, 0, `ipchains ${args.join(' ')}`)
      const icmpInAfter = counters(ns, 'input').find((r) => r.rest.includes('icmp'))
      const [icmpOutAfter] = counters(ns, 'output')
      t.same(packetsAndBytes(icmpInAfter), packetsAndBytes(icmpIn), 'input ICMP rule kept its packets and bytes')
      t.same(packetsAndBytes(icmpOutAfter), packetsAndBytes(icmpOut), 'output rule kept its packets and bytes')
      pingLoopback(ns, 2)
      const icmpInLater = counters(ns, 'input').find((r) => r.rest.includes('icmp'))
      t.equal(icmpInLater?.pkts, (icmpIn?.pkts ?? 0) + 4, 'and goes on counting from there')
      t.equal(ipchains(ns, '-Z', 'input').status, 0)
      t.same(
        counters(ns, 'input').map((r) => r.pkts),
        [0, 0, 0, 0],
        '-Z zeroes the rule counters',
      )
      t.same(packetsAndBytes(counters(ns, 'output')[0]), [(icmpOut?.pkts ?? 0) + 4, (icmpOut?.bytes ?? 0) + 4 * 84], 'of that chain only')
    })
  })

  t.test('a TCP packet conntrack cannot track never leaves through MASQ or REDIRECT', async (t) => {
    await withLab(async (lab) => {
      for (const args of [
        ['-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ'],
        ['-A', 'input', '-p', 'tcp', '-d', WAN, '7001', '-j', 'REDIRECT', '7002'],
      ])
        t.equal(lab.ipchains(...args).status, 0, `ipchains ${args.join(' ')}`)
      const [lan] = LAN_ADDRS
      for (const [dport, what] of [
        [7000, 'MASQ'],
        [7001, 'REDIRECT'],
      ] as const)
        for (const flags of ['SA', 'R', 'F']) {
          const seen = await lab.sniff('wan', dport, () => lab.rawTcp('lan', { src: lan, dst: WAN, sport: 40000, dport, flags, count: 3 }))
          t.same(seen, [], `${what}: no ${flags} segment without a connection reached wan`)
        }
      // Tracked traffic still gets through: a SYN is masqueraded.
      const seen = await lab.sniff('wan', 7000, () => lab.rawTcp('lan', { src: lan, dst: WAN, sport: 40001, dport: 7000, flags: 'S' }))
      t.equal(seen.length, 1, 'a SYN reaches wan')
      t.match(seen[0] ?? '', /^203\.0\.113\.1:6[1-5]\d{3}$/, `masqueraded (${seen[0]})`)
    })
  })

  t.test('user chains nested deeper than nftables allows: refused, nothing changes', async (t) => {
    await withNetns('depth', async (ns) => {
      for (let i = 1; i <= 17; i++) ipchains(ns, '-N', `c${i}`)
      for (let i = 1; i < 17; i++) t.equal(ipchains(ns, '-A', `c${i}`, '-j', `c${i + 1}`).status, 0)
      const before = ruleset(ns)
      const r = ipchains(ns, '-A', 'input', '-j', 'c1')
      t.equal(r.status, 1)
      t.equal(r.stderr, 'ipchains: Too many links\n', 'the kernel refusal as an ipchains error')
      t.equal(ruleset(ns), before, 'ruleset unchanged')
    })
  })

  t.test('messages name the program by its base name, or $LEGACYFW_ARGV0', async (t) => {
    await withNetns('argv0', async (ns) => {
      const plain = inNetns(ns, [IPCHAINS, '-Q'])
      t.match(plain.stderr, /^ipchains: invalid option -- Q\nTry `ipchains -h' or 'ipchains --help'/)
      const named = inNetns(ns, ['env', 'LEGACYFW_ARGV0=/sbin/ipchains', IPCHAINS, '-Q'])
      t.match(named.stderr, /^\/sbin\/ipchains: invalid option -- Q\nTry `\/sbin\/ipchains -h' or '\/sbin\/ipchains --help'/)
    })
  })

  t.test('MASQ is decided per connection (divergence) and -M -L -v shows zero sequence columns', async (t) => {
    await withLab(async (lab) => {
      // The SYN is forwarded unmasqueraded, later packets hit MASQ: 2.2 would have
      // masqueraded them; nftables keeps the connection as its first packet set it.
      for (const args of [
        ['-A', 'forward', '-p', 'tcp', '-y', '-j', 'ACCEPT'],
        ['-A', 'forward', '-s', '192.168.1.0/24', '-j', 'MASQ'],
      ])
        t.equal(lab.ipchains(...args).status, 0, `ipchains ${args.join(' ')}`)
      const server = await lab.serve('wan', { tcp: [8080], udp: [9000] }, 30)
      lab.exec('wan', ['ip', 'route', 'add', `${LAN_ADDRS[0]}/32`, 'via', '203.0.113.1'])
      const probe = await lab.tcp('lan', WAN, 8080)
      t.equal(probe.result, 'reply', 'the connection works')
      const seen = await server.waitFor((e) => e.ev === 'tcp')
      t.match(seen?.peer ?? '', new RegExp(`^${LAN_ADDRS[0].replaceAll('.', '\\.')}:`), `wan saw the unmasqueraded source (${seen?.peer})`)
      lab.exec('wan', ['ip', 'route', 'del', `${LAN_ADDRS[0]}/32`])
      t.equal((await lab.udp('lan', WAN, 9000)).result, 'reply', 'a UDP datagram is masqueraded')
      const masq = lab.ipchains('-M', '-L', '-n', '-v').stdout
      const header = `prot ${'expire'.padEnd(8)} ${'initseq'.padStart(10)} delta prevd ${'source'.padEnd(20)} ${'destination'.padEnd(20)} ports\n`
      t.ok(masq.startsWith(`IP masquerading entries\n${header}`), `print_masq header with the -v columns:\n${masq}`)
      t.match(masq, /\nUDP  0\d:\d\d\.00 {10}0 {5}0 {5}0 192\.168\.1\.10 {9}203\.0\.113\.50 {9}\d+ \((6[1-5]\d{3})\) -> 9000\n/)
    })
  })
}
