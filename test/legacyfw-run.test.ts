// legacyfw run: a script's legacy commands served by one process behave
// exactly as the live commands (same stdout, stderr and exit status, mid-
// script listings), and the kernel ends up with the same table as after the
// live run, written in one nft transaction, without a Node process per
// command. Each script runs live (bin/ per command, in the sandbox) in one
// fresh namespace and through `legacyfw run` in another.
import t from 'tap'
import { residentListed } from '../src/runtime/resident.ts'
import { RUNTIME_SOCKET } from '../src/runtime/runtime.ts'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inNetns, requireRootAndNft, withNetns } from './helpers/netns.ts'
import { runScript } from '../src/script/sandbox.ts'

const ROOT = new URL('..', import.meta.url).pathname
const LEGACYFW = join(ROOT, 'bin/legacyfw')
const IPCHAINS = join(ROOT, 'bin/ipchains')
const IPCHAINS_SAVE = join(ROOT, 'bin/ipchains-save')
const tmp = mkdtempSync(join(tmpdir(), 'lfw-run-test-'))

const SCRIPTS: Record<string, string> = {
  // (sh -c runs an installed bin/ipchains by its path: inside legacyfw run it
  // is served by the run's process too.)
  'listings mid-script': `ipchains -N tcpin
ipchains -A tcpin -p tcp -s 10.0.0.0/8 -d 0/0 22 -j ACCEPT
ipchains -L -n
ipchains -A input -i eth0 -j tcpin
ipchains -L input -n -v -x
ipchains-save
ipchains -X tcpin
echo "-X: $?"
ipchains -L -n --line-numbers
ipchains -C input -p tcp -s 10.1.2.3 1024 -d 10.9.9.9 22 -i eth0
ipchains -P forward MASQ
ipchains -M -S 7200 10 60
ipchains -L forward
`,
  'fails part-way under set -e': `set -e
IPCHAINS=/sbin/ipchains
$IPCHAINS -P input DENY
$IPCHAINS -A input -s 192.168.1.0/24 -j ACCEPT
$IPCHAINS -A input -j nosuch
$IPCHAINS -A input -j ACCEPT
`,
  'shell forms: pipes, subshells, background jobs, sh -c, exec by name': `ipchains -A input -p icmp -j DENY
ipchains -L input -n | grep -c DENY
( ipchains -A output -d 10.0.0.1 -j REJECT )
ipchains -A forward -s 10.0.0.0/8 -j MASQ &
wait
sh -c 'ipchains -A input -p udp -d 0/0 53 -j ACCEPT; "$0" -L input -n' ${join(ROOT, 'bin/ipchains')}
env ipchains -A input -p tcp -y -j DENY
ipchains -L -n -v
ipchains -Q
echo "status $?"
ipchains -A input -s nosuchhost.invalid. -j ACCEPT
`,
  'ipchains-restore from a here-document': `ipchains-restore -p <<'EOF'
:input DENY
:forward ACCEPT
:output ACCEPT
:ppp-in -
-A input -i ppp0 -j ppp-in
-A ppp-in -p tcp -s 0.0.0.0/0.0.0.0 -d 0.0.0.0/0.0.0.0 80 -j ACCEPT
EOF
ipchains -L -n
ipchains-restore -x </dev/null
echo "status $?"
`,
  'ipfwadm: listings mid-script, -V, accounting, masquerading, errors': `ip link add eth0 type veth peer name eth0p
ip addr add 10.64.0.1/24 dev eth0
ip link set eth0 up
IPFWADM=/sbin/ipfwadm
$IPFWADM -F -p deny
$IPFWADM -F -a m -S 192.168.1.0/24 -D 0.0.0.0/0 -W eth0
$IPFWADM -I -a accept -V 10.64.0.1 -P tcp -S 0/0 -D 10.64.0.1 22 80
$IPFWADM -I -a accept -P tcp -S 0/0 -D 10.64.0.1 8080 -r 3128
$IPFWADM -O -a reject -P tcp -D 10.1.2.3 23 -o
$IPFWADM -A in -a -P tcp -S 0/0 80
$IPFWADM -I -l -n -e
$IPFWADM -A -l -n -x
$IPFWADM -M -s 3600 60 120
$IPFWADM -O -d reject -P tcp -D 10.1.2.3 23 -o
echo "-d: $?"
$IPFWADM -O -d reject -P tcp -D 10.1.2.3 23 -o
echo "-d again: $?"
$IPFWADM -c -I -P tcp -S 10.9.9.9 1024 -D 10.64.0.1 22 -V 10.64.0.1
$IPFWADM -F -a accept -P nosuch
$IPFWADM -F -l -n -v
`,
  'ipautofw and ipmasqadm: portfw, mfw, autofw, listings, errors': `ipautofw -A -r udp 6970 7170 -c tcp 7070
ipautofw -A -r tcp 6000 6010 -h 192.168.1.9
ipautofw -D -r tcp 6000 6010 -h 192.168.1.8
echo "ipautofw -D: $?"
ipmasqadm portfw -a -P tcp -L 10.64.0.1 80 -R 192.168.1.2 80 -p 2
ipmasqadm portfw -a -P tcp -L 10.64.0.1 80 -R 192.168.1.3 8080 -p 1
ipmasqadm portfw -l -n
ipmasqadm mfw -I -m 1 -r 192.168.1.5 21 -p 3
ipmasqadm mfw -L -n
ipmasqadm mfw -D -m 7
echo "mfw -D: $?"
ipmasqadm autofw -A -r tcp 7000 7010 -h 192.168.1.7
ipmasqadm portfw -d -P tcp -L 10.64.0.1 80 -R 192.168.1.3 8080
ipmasqadm portfw -l -n
ipmasqadm nosuch
`,
}

/** The example rc.firewall without the module tools, which would act on the host in a live boot run. */
const example = readFileSync(join(ROOT, 'examples/rc.firewall-2.2-strong.sh'), 'latin1')
  .split('\n')
  .map((l) => (/^\s*\/sbin\/(depmod|modprobe)\b/.test(l) ? `: ${l}` : l))
  .join('\n')
SCRIPTS['the example rc.firewall'] = example.replace(/^echo "1" > \/proc\/sys\/net\/ipv4\/ip_always_defrag$/m, ': no such sysctl here')

const scriptFile = (name: string, text: string): string => {
  const path = join(tmp, `${name.replace(/\W+/g, '-')}.sh`)
  writeFileSync(path, text, 'latin1')
  return path
}

/**
 * The owned table as the kernel lists it, in an order that does not depend
 * on how it was built: its blocks (chains, counters, timeouts) sorted,
 * counters renamed c1, c2, ... in the order rules use them, without the set
 * that guards commits (its elements expire).
 */
const TABLES = ['legacyfw_ipchains', 'legacyfw_ipfwadm', 'legacyfw_ipautofw', 'legacyfw_ipmasqadm']

const kernelTable = (ns: string): string =>
  TABLES.map((table) => {
    const r = inNetns(ns, ['nft', 'list', 'table', 'ip', table])
    if (r.status !== 0) return r.stderr
    const names = new Map<string, string>()
    const text = r.stdout.replace(/counter name "([^"]+)"/g, (_, n: string) => {
      if (!names.has(n)) names.set(n, `c${names.size + 1}`)
      return `counter name "${names.get(n)}"`
    })
    // The table's comment is a block of its own (nft lists the first object right under it).
    const body = text.slice(text.indexOf('{\n') + 2, text.lastIndexOf('\n}')).replace(/^(\tcomment "[^"]*")\n(?!\n)/, '$1\n\n')
    const blocks = body.split('\n\n').filter((b) => !/^\tset generation /.test(b))
    return blocks
      .map((b) => b.replace(/^\tcounter (\S+) \{/, (_, n: string) => `\tcounter ${names.get(n) ?? n} {`))
      .sort()
      .join('\n\n')
  }).join('\n')

const listings = (ns: string): string[] =>
  [
    [IPCHAINS, '-L', '-n', '-v', '-x'],
    [IPCHAINS_SAVE],
    ...['-A', '-I', '-O', '-F'].map((c) => [join(ROOT, 'bin/ipfwadm'), c, '-l', '-n', '-e', '-x']),
    [join(ROOT, 'bin/ipmasqadm'), 'portfw', '-l', '-n'],
    [join(ROOT, 'bin/ipmasqadm'), 'mfw', '-L', '-n'],
    [LEGACYFW, 'proc', 'ip_autofw'],
    [LEGACYFW, 'proc', 'ip_masq/autofw'],
  ].map((argv) => inNetns(ns, argv).stdout)

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else if (spawnSync('strace', ['-V']).status !== 0) t.fail('this test needs strace (apt-get install strace)')
else {
  t.teardown(() => spawnSync('rm', ['-rf', tmp]))

  for (const [name, text] of Object.entries(SCRIPTS))
    t.test(name, async (t) => {
      const path = scriptFile(name, text)
      // Each namespace is deleted on every path, also when making the other one fails.
      await withNetns('live', (liveNs) =>
        withNetns('run', async (runNs) => {
          const live = await runScript(liveNs, path)
          t.ok(live.started, live.stderr)
          const trace = join(tmp, `${name.replace(/\W+/g, '-')}.trace`)
          // The -V watcher and the runtime (for logging rules) live as long as the namespace, or the
          // rules (strace -f would wait for them): such a script runs untraced.
          const via = / -V /.test(text)
          const logs = /\blog prefix "[^"]*" group (20|22)\b/.test(inNetns(liveNs, ['nft', 'list', 'ruleset']).stdout)
          const run = inNetns(runNs, [
            ...(via || logs ? [] : ['strace', '-f', '-qq', '-e', 'trace=execve', '-e', 'signal=none', '-o', trace]),
            LEGACYFW,
            'run',
            path,
          ])
          t.equal(run.stdout, live.stdout, 'stdout as live')
          t.equal(run.stderr, live.stderr, 'stderr as live')
          t.equal(run.status, live.status, `exit status as live (${live.status})`)
          t.equal(kernelTable(runNs), kernelTable(liveNs), 'the same kernel table')
          t.same(listings(runNs), listings(liveNs), 'the same listings')
          if (via) {
            t.ok(inNetns(runNs, ['grep', '-q', '@legacyfw-via-watch', '/proc/net/unix']).status === 0, 'the -V watcher runs, as after live ipfwadm')
            return
          }
          if (logs) {
            const runtime = async (): Promise<boolean> => {
              for (let i = 0; i < 30; i++, await new Promise((r) => setTimeout(r, 100)))
                if (residentListed(inNetns(runNs, ['cat', '/proc/net/unix']).stdout, RUNTIME_SOCKET)) return true
              return false
            }
            t.ok(await runtime(), 'the runtime runs, as after live ipchains -l')
            return
          }
          const execs = readFileSync(trace, 'utf8')
            .split('\n')
            .filter((l) => / execve\(/.test(l) && !/ENOENT/.test(l))
          const node = execs.filter((l) => /execve\("[^"]*\/node"/.test(l))
          // The one exception: a bin/ tool started by path from a program other than bash.
          const byPath = text.includes(`"$0" -L input -n' ${join(ROOT, 'bin/ipchains')}`) ? 1 : 0
          t.equal(
            node.length,
            1 + byPath,
            `one Node process for the whole script${byPath ? ', one more for bin/ipchains run by path from sh' : ''}`,
            { execs: node },
          )
          const nft = execs.filter((l) => /execve\("[^"]*\/nft"/.test(l))
          const writes = nft.filter((l) => /"-f"/.test(l))
          const tables = TABLES.filter((table) => inNetns(runNs, ['nft', 'list', 'table', 'ip', table]).status === 0).length
          t.equal(writes.length, tables, `one nft transaction per table the script made (${tables})`, { nft })
        }),
      )
    })
}
