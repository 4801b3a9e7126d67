// The 2.2-era userland served to scripts (tools/era.ts): ifconfig, route
// and netstat -r print net-tools 1.54's formats from the network the script
// runs in and change it through ip, under `legacyfw translate` (the
// sandbox's network, the host unchanged) and `legacyfw run` (the namespace's).
import t from 'tap'
import type { Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inNetns, requireRootAndNft, withNetns, withoutTapLoader } from './helpers/netns.ts'
import { ifconfigMain, netstatMain, routeMain } from '../src/tools/era.ts'
import { interfacesFromIp, routesFromIp, statsFromIpLink } from '../src/translate/era/ip-json.ts'
import { type Userland, realCommand, runRealCommand } from '../src/runtime/userland.ts'
import { shimScript } from '../src/script/serve.ts'
import { realSys } from '../src/runtime/sys.ts'
import { SERVED_COMMANDS, servedCommand } from '../src/tools/registry.ts'

const ROOT = new URL('..', import.meta.url).pathname
const LEGACYFW = join(ROOT, 'bin/legacyfw')
const fixture = (name: string): string => readFileSync(join(ROOT, 'fixtures/era', name), 'utf8')
const tmp = mkdtempSync(join(tmpdir(), 'lfw-era-test-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
const script = (name: string, text: string): string => {
  const path = join(tmp, name)
  writeFileSync(path, text)
  return path
}

/** A userland on the captured fixtures that records the ip commands it is asked to run. */
const fakeUserland = (ipStatus = 0, ipStderr = ''): Userland & { ran: string[][] } => {
  const ran: string[][] = []
  return {
    ran,
    interfaces: () => interfacesFromIp(fixture('ip-addr.json'), statsFromIpLink(fixture('ip-link-stats.json'))),
    routes: () => routesFromIp(fixture('ip-route.json')),
    ip: (args) => {
      ran.push([...args])
      return { status: ipStatus, stderr: ipStderr }
    },
    real: () => undefined,
  }
}

const call = async (main: typeof ifconfigMain, args: string[], userland: Userland) => {
  let stdout = ''
  let stderr = ''
  const sys = { ...realSys('ifconfig'), out: (s: string) => (stdout += s), err: (s: string) => (stderr += s) }
  const status = await main(args, sys, userland)
  return { stdout, stderr, status }
}

t.test('the commands are served, owning no table', async (t) => {
  for (const name of ['ifconfig', 'route', 'netstat']) {
    t.ok(SERVED_COMMANDS.includes(name), `${name} is served`)
    t.equal(servedCommand(name)?.table, undefined, `${name} owns no table`)
  }
  t.ok(servedCommand('ipchains')?.table, 'ipchains owns its table')
})

t.test('mains on captured data', async (t) => {
  const u = fakeUserland()
  t.same(await call(ifconfigMain, [], u), { stdout: fixture('ifconfig.txt'), stderr: '', status: 0 }, 'ifconfig')
  t.same(await call(ifconfigMain, ['-a'], u), { stdout: fixture('ifconfig-a.txt'), stderr: '', status: 0 }, 'ifconfig -a')
  t.same(await call(ifconfigMain, ['eth0'], u), { stdout: fixture('ifconfig-eth0.txt'), stderr: '', status: 0 }, 'ifconfig eth0')
  t.same(
    await call(ifconfigMain, ['nosuch'], u),
    { stdout: '', stderr: 'nosuch: error fetching interface information: Device not found\n', status: 1 },
    'ifconfig nosuch: net-tools error and status',
  )
  t.same(await call(routeMain, ['-n'], u), { stdout: fixture('route-n.txt'), stderr: '', status: 0 }, 'route -n')
  t.same(await call(netstatMain, ['-rn'], u), { stdout: fixture('netstat-rn.txt'), stderr: '', status: 0 }, 'netstat -rn')
  t.same(await call(netstatMain, ['-nr'], u), { stdout: fixture('netstat-rn.txt'), stderr: '', status: 0 }, 'netstat -nr')
  t.equal((await call(routeMain, ['-x'], u)).status, 4, 'route with a bad option: usage, exit 4')
  t.equal((await call(netstatMain, ['-an'], u)).status, 127, 'netstat listings other than -r are not provided without a netstat')
  const withNetstat = { ...u, real: (name: string, args: readonly string[]) => ({ status: 0, stdout: `${name} ${args.join(' ')}\n`, stderr: '' }) }
  t.same(
    await call(netstatMain, ['-an'], withNetstat),
    { stdout: 'netstat -an\n', stderr: '', status: 0 },
    'they are the system netstat when there is one',
  )
  t.same(u.ran, [], 'listing runs no ip command')
})

t.test('the system program behind a stand-in', async (t) => {
  // A stand-in (it sources the run's env.bash) earlier in PATH is skipped: a served command never calls itself.
  const standIns = join(tmp, 'standins')
  const system = join(tmp, 'system')
  for (const dir of [standIns, system]) mkdirSync(dir)
  writeFileSync(join(standIns, 'netstat'), shimScript('netstat', '/run/legacyfw/x/env.bash'), { mode: 0o755 })
  writeFileSync(join(system, 'netstat'), '#!/bin/sh\necho system "$@"\n', { mode: 0o755 })
  const path = process.env['PATH']
  process.env['PATH'] = `${standIns}:${system}`
  try {
    t.equal(realCommand('netstat'), join(system, 'netstat'))
    t.same(runRealCommand('netstat', ['-an']), { status: 0, stdout: 'system -an\n', stderr: '' })
    t.equal(realCommand('nosuchprogram'), undefined)
  } finally {
    process.env['PATH'] = path
  }
})

t.test('configuring forms run ip', async (t) => {
  const u = fakeUserland()
  t.equal((await call(ifconfigMain, ['eth1', '10.9.9.9', 'netmask', '255.255.255.0', 'up'], u)).status, 0)
  t.same(u.ran, [
    ['addr', 'add', '10.9.9.9/24', 'broadcast', '10.255.255.255', 'dev', 'eth1', 'label', 'eth1'],
    ['link', 'set', 'dev', 'eth1', 'up'],
    ['link', 'set', 'dev', 'eth1', 'up'],
  ])
  u.ran.length = 0
  t.equal((await call(routeMain, ['add', '-net', '10.1.0.0', 'netmask', '255.255.0.0', 'gw', '192.168.1.254'], u)).status, 0)
  t.same(u.ran, [['route', 'add', '10.1.0.0/16', 'via', '192.168.1.254']])
  const refused = fakeUserland(2, 'RTNETLINK answers: No such process\n')
  t.same(
    await call(routeMain, ['del', '-net', '10.1.0.0', 'netmask', '255.255.0.0'], refused),
    { stdout: '', stderr: 'SIOCDELRT: No such process\n', status: 7 },
    'a kernel refusal is the ioctl error route printed',
  )
  t.same(
    await call(ifconfigMain, ['eth0', '10.1.1.1'], refused),
    { stdout: '', stderr: 'SIOCDIFADDR: No such process\nSIOCSIFADDR: No such process\nSIOCSIFFLAGS: No such process\n', status: 1 },
    'an ip refusal is the ioctl error ifconfig printed',
  )
})

const SCRIPT = `#!/bin/sh
WAN_IP=\`ifconfig eth0 |grep inet |cut -d : -f 2 |cut -d \\  -f 1\`
ipchains -A input -d $WAN_IP -j ACCEPT
/sbin/ifconfig nosuch
echo "nosuch: $?"
route -n
/sbin/ifconfig eth0 10.9.9.9 netmask 255.255.255.0
sh -c 'ifconfig eth0' | grep 'inet addr'
/sbin/route add -net 10.1.0.0 netmask 255.255.0.0 gw 10.9.9.1
netstat -rn | grep UG
echo "hidden links: $(ifconfig -a | grep -c lfwpeer)"
`

const ROUTE_ROWS = `Kernel IP routing table
Destination     Gateway         Genmask         Flags Metric Ref    Use Iface
203.0.113.0     0.0.0.0         255.255.255.0   U     0      0        0 eth0
`

const checkOutput = (t: Test, stdout: string, stderr: string): void => {
  t.match(stdout, 'nosuch: 1\n', 'ifconfig nosuch exits 1')
  t.match(stderr, 'nosuch: error fetching interface information: Device not found\n')
  t.match(stdout, ROUTE_ROWS, 'route -n rows')
  t.match(stdout, '          inet addr:10.9.9.9  Bcast:10.255.255.255  Mask:255.255.255.0\n', 'the address changed (/bin/sh child too)')
  t.match(stdout, /^10\.1\.0\.0 +10\.9\.9\.1 +255\.255\.0\.0 +UG .* eth0$/m, 'route add acted')
  t.match(stdout, 'hidden links: 0\n', "ifconfig -a shows no veth peer of the sandbox's")
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)

t.test('legacyfw translate: addresses from ifconfig, changes only in the sandbox', async (t) => {
  if (missing) return
  const path = script('wan.sh', SCRIPT)
  const before = spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' }).stdout
  const r = spawnSync('env', withoutTapLoader([LEGACYFW, 'translate', '--no-mirror', '--iface', 'eth0=203.0.113.1/24', path]), { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, 'ip daddr 203.0.113.1 counter name "r1" accept comment "-d 203.0.113.1 -j ACCEPT" # script:3')
  // translate prints the script's own output on stderr, after the nft file.
  checkOutput(t, r.stderr, r.stderr)
  t.equal(spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' }).stdout, before, "the host's addresses are unchanged")
})

t.test('legacyfw run: addresses from ifconfig, changes in the namespace', async (t) => {
  if (missing) return
  await withNetns('era', (ns) => {
    // eth0 with the address the script reads: one end of a veth pair, up.
    const setup =
      'ip link set lo up && ip link add eth0 type veth peer name eth0p && ip addr add 203.0.113.1/24 dev eth0 && ip link set eth0 up && ip link set eth0p up'
    t.equal(inNetns(ns, ['sh', '-c', setup]).status, 0, setup)
    const r = inNetns(ns, [LEGACYFW, 'run', script('wan-run.sh', SCRIPT)])
    t.equal(r.status, 0, r.stderr)
    checkOutput(t, r.stdout, r.stderr)
    t.match(inNetns(ns, [join(ROOT, 'bin/ipchains'), '-L', 'input', '-n']).stdout, /ACCEPT +all +------ +0\.0\.0\.0\/0 +203\.0\.113\.1/)
    t.match(inNetns(ns, ['ip', '-4', 'addr', 'show', 'eth0']).stdout, 'inet 10.9.9.9/24 brd 10.255.255.255')
    t.match(inNetns(ns, ['ip', 'route', 'show']).stdout, '10.1.0.0/16 via 10.9.9.1 dev eth0')
  })
})
