// ipfwadm's state contract against the real kernel, in namespaces made here:
// concurrent commands lose no update, a rejected command changes nothing,
// edits keep the counters of untouched rules, the ipfwadm and ipchains
// tables apply together while each tool lists only its own, and without
// privileges the tool fails the way 2.0's did.
import t from 'tap'
import { type CounterRow, counterRows, packetsAndBytes } from './helpers/lab.ts'
import { checkConcurrentAdds, checkRefusedLeaveRuleset, inNetns, pingLoopback, requireRootAndNft, withNetns } from './helpers/netns.ts'

const IPFWADM = new URL('../bin/ipfwadm', import.meta.url).pathname
const IPCHAINS = new URL('../bin/ipchains', import.meta.url).pathname

const ipfwadm = (ns: string, ...args: string[]) => inNetns(ns, [IPFWADM, ...args])
const ipchains = (ns: string, ...args: string[]) => inNetns(ns, [IPCHAINS, ...args])

/** The counters of `ipfwadm CATEGORY -l -e -x -n`. */
const counters = (ns: string, category: string): CounterRow[] => counterRows(ipfwadm(ns, category, '-l', '-e', '-x', '-n').stdout)

/** Sends one UDP datagram over lo; true if it arrived. */
const udpArrives = (ns: string, port: number): boolean => {
  const script = `
import socket
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", ${port})); r.settimeout(0.5)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(b"x", ("127.0.0.1", ${port})); r.recv(10); print("yes")
except OSError:
    print("no")
`
  return inNetns(ns, ['python3', '-c', script]).stdout.trim() === 'yes'
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.test('concurrent commands serialise and lose no update', async (t) => {
    await withNetns('fwconc', async (ns) => {
      await checkConcurrentAdds(
        t,
        ns,
        20,
        (i, source) => [IPFWADM, '-I', i % 2 ? '-a' : '-i', 'deny', '-S', source],
        () => counters(ns, '-I').map((r) => r.rest),
      )
    })
  })

  t.test('a rejected command changes nothing', async (t) => {
    await withNetns('fwreject', async (ns) => {
      ipfwadm(ns, '-I', '-a', 'accept', '-P', 'tcp', '-S', '192.168.1.0/24', '-D', '0/0', '80')
      ipfwadm(ns, '-A', 'in', '-a', '-V', '127.0.0.1')
      ipfwadm(ns, '-F', '-p', 'masquerade')
      checkRefusedLeaveRuleset(t, ns, IPFWADM, [
        ['-I', '-d', 'accept', '-P', 'tcp', '-S', '192.168.1.0/24', '-D', '0/0', '81'],
        ['-O', '-d', 'deny', '-S', '1.2.3.4'],
        ['-I', '-a', 'accept', '-P', 'tcp', '-S', '0/0', '90:80'],
        ['-F', '-a', 'accept', '-r', '3128'],
        ['-I', '-a', 'accept', '-m'],
        ['-A', '-a', 'accept'],
        ['-I', '-p', 'bogus'],
        ['-M', '-s', '1', '2'],
        ['-I', '-c', '-P', 'tcp', '-S', '1.1.1.1', '1', '-D', '2.2.2.2', '2', '-W', 'nosuch0', '-V', '1.2.3.4'],
        ['-I', '-a', 'accept', '-S', 'nosuchhost.invalid'],
      ])
    })
  })

  t.test('an edit keeps the counters of the rules it does not touch', async (t) => {
    await withNetns('fwcount', async (ns) => {
      ipfwadm(ns, '-A', 'in', '-a', '-P', 'icmp', '-S', '127.0.0.1')
      ipfwadm(ns, '-A', 'out', '-a', '-P', 'icmp', '-D', '127.0.0.1')
      ipfwadm(ns, '-I', '-a', 'accept', '-P', 'icmp', '-S', '127.0.0.1')
      pingLoopback(ns, 5)
      const [acctIn, acctOut] = counters(ns, '-A')
      const [fwIn] = counters(ns, '-I')
      t.same([acctIn?.pkts, acctOut?.pkts, fwIn?.pkts], [10, 10, 10], 'accounting in, out and the input rule counted requests and replies')
      t.same([acctIn?.bytes, acctOut?.bytes], [840, 840], 'bytes too')
      const edits = [
        ['-A', '-i', '-P', 'udp'],
        ['-I', '-i', 'deny', '-P', 'tcp', '-S', '10.0.0.1'],
        ['-I', '-d', 'deny', '-P', 'tcp', '-S', '10.0.0.1'],
        ['-I', '-a', 'reject', '-P', 'tcp', '-b', '-y'],
        ['-I', '-p', 'deny'],
        ['-I', '-p', 'accept'],
        ['-M', '-s', '7200', '10', '60'],
        ['-O', '-a', 'accept', '-V', '127.0.0.1', '-t', '0x01', '0x10'],
      ]
      for (const args of edits) t.equal(ipfwadm(ns, ...args).status, 0, `ipfwadm ${args.join(' ')}`)
      const after = counters(ns, '-A')
      t.same(after.slice(1).map(packetsAndBytes), [packetsAndBytes(acctIn), packetsAndBytes(acctOut)], 'the accounting rules kept their counts')
      t.same(packetsAndBytes(counters(ns, '-I')[0]), packetsAndBytes(fwIn), 'the input rule too')
      pingLoopback(ns, 2)
      t.equal(counters(ns, '-A')[1]?.pkts, (acctIn?.pkts ?? 0) + 4, 'and they go on counting')
      t.equal(ipfwadm(ns, '-A', '-z').status, 0)
      t.same(
        counters(ns, '-A').map((r) => r.pkts),
        [0, 0, 0],
        '-z zeroes the accounting counters',
      )
      t.equal(counters(ns, '-I')[0]?.pkts, (fwIn?.pkts ?? 0) + 4, 'of that list only')
    })
  })

  t.test('ipfwadm and ipchains tables apply together; each tool lists only its own', async (t) => {
    await withNetns('coexist', async (ns) => {
      t.equal(ipfwadm(ns, '-I', '-a', 'deny', '-P', 'udp', '-D', '127.0.0.1', '7001').status, 0)
      t.equal(ipchains(ns, '-A', 'input', '-p', 'udp', '-d', '127.0.0.1', '7002', '-j', 'DENY').status, 0)
      t.notOk(udpArrives(ns, 7001), 'the ipfwadm rule drops its port')
      t.notOk(udpArrives(ns, 7002), 'the ipchains rule drops its port')
      t.ok(udpArrives(ns, 7003), 'other ports pass both')
      t.same(
        ipfwadm(ns, '-I', '-l', '-n').stdout,
        'IP firewall input rules, default policy: accept\ntype  prot source               destination          ports\ndeny  udp  0.0.0.0/0            127.0.0.1            * -> 7001\n',
        'ipfwadm lists its rule only',
      )
      t.match(
        ipchains(ns, '-L', 'input', '-n').stdout,
        /^Chain input \(policy ACCEPT\):\ntarget +prot opt +source +destination +ports\nDENY +udp +------ +0\.0\.0\.0\/0 +127\.0\.0\.1 +\* -> +7002\n$/,
        'ipchains lists its rule only',
      )
      t.equal(ipfwadm(ns, '-I', '-f').status, 0)
      t.ok(udpArrives(ns, 7001), 'flushing ipfwadm lifts only its rule')
      t.notOk(udpArrives(ns, 7002), 'the ipchains rule still applies')
    })
  })

  t.test('without privileges: 2.0 socket and /proc errors', async (t) => {
    await withNetns('fwuser', async (ns) => {
      const asNobody = (...args: string[]) => inNetns(ns, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', IPFWADM, ...args])
      const add = asNobody('-I', '-a', 'accept', '-S', '1.2.3.4')
      t.same([add.stdout, add.stderr, add.status], ['', 'ipfwadm: socket creation failed: Operation not permitted\n', 1])
      const list = asNobody('-I', '-l')
      t.same(
        [list.stdout, list.stderr, list.status],
        ['', 'ipfwadm: cannot open file /proc/net/ip_input\n', 1],
        'listing needs root here (divergence)',
      )
    })
  })

  t.test('messages name the program by its base name, or $LEGACYFW_ARGV0', async (t) => {
    await withNetns('fwargv0', async (ns) => {
      t.match(ipfwadm(ns, '-q').stderr, /^ipfwadm: invalid option -- q\nTry `ipfwadm -h' for more information\.\n$/)
      const named = inNetns(ns, ['env', 'LEGACYFW_ARGV0=/sbin/ipfwadm', IPFWADM, '-q'])
      t.match(named.stderr, /^\/sbin\/ipfwadm: invalid option -- q\nTry `\/sbin\/ipfwadm -h' for more information\.\n$/)
    })
  })
}
