// /proc/sys settings of a script: translate keeps those this kernel has
// (found by comparing the sandbox's /proc/sys/net before and after) in an
// /etc/sysctl.d file (--sysctl-out) with a report line each; the 2.0/2.2
// knobs it lacks become one divergence note naming the line, in translate
// and in run (instead of bash's "No such file or directory").
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inNetns, requireRootAndNft, withNetns, withoutTapLoader } from './helpers/netns.ts'
import {
  changedSettings,
  missingKnobError,
  missingKnobNote,
  missingKnobSed,
  parseSnapshot,
  settingLine,
  sysctlKey,
} from '../src/translate/era/sysctl.ts'

const LEGACYFW = new URL('../bin/legacyfw', import.meta.url).pathname

t.test('pure parts', async (t) => {
  t.equal(sysctlKey('/proc/sys/net/ipv4/ip_forward'), 'net.ipv4.ip_forward')
  t.equal(sysctlKey('/proc/sys/net/ipv4/conf/eth0.5/rp_filter'), 'net/ipv4/conf/eth0.5/rp_filter')
  const before = parseSnapshot(
    '/proc/sys/net/ipv4/ip_forward:0\n/proc/sys/net/ipv4/tcp_rmem:4096\t131072\t6291456\n/proc/sys/net/netfilter/nf_conntrack_count:1\n',
  )
  const after = parseSnapshot(
    '/proc/sys/net/ipv4/ip_forward:1\n/proc/sys/net/ipv4/tcp_rmem:4096\t131072\t6291456\n/proc/sys/net/netfilter/nf_conntrack_count:7\n',
  )
  t.same(changedSettings(before, after), [['/proc/sys/net/ipv4/ip_forward', '1']], 'changed, counters left out')
  const text =
    '# echo 1 > /proc/sys/net/ipv4/ip_forward\necho 1 > /proc/sys/net/ipv4/ip_forward\nfor f in /proc/sys/net/ipv4/conf/*/rp_filter; do\n echo 1 > $f\ndone\nsysctl -w net.ipv4.ip_dynaddr=1\n'
  t.equal(settingLine(text, '/proc/sys/net/ipv4/ip_forward'), 2, 'the line naming it, not a comment')
  t.equal(settingLine(text, '/proc/sys/net/ipv4/conf/eth0/rp_filter'), 3, 'a wildcard loop')
  t.equal(settingLine(text, '/proc/sys/net/ipv4/ip_dynaddr'), 6, 'a sysctl key')
  t.equal(settingLine(text, '/proc/sys/net/ipv4/conf/eth0/forwarding'), undefined, 'what the kernel changed along')
  t.same(missingKnobError('script: line 75: /proc/sys/net/ipv4/ip_always_defrag: No such file or directory'), {
    file: 'script',
    line: 75,
    path: '/proc/sys/net/ipv4/ip_always_defrag',
  })
  t.equal(missingKnobError('cat: /proc/sys/x: No such file or directory'), undefined)
  const sed = spawnSync('sed', ['-E', missingKnobSed('P: ')], {
    input:
      '/x/rc: line 7: /proc/sys/net/ipv4/ip_masq_debug: No such file or directory\n/x/rc: line 9: /proc/sys/net/ipv4/nope: No such file or directory\nother\n' +
      '/x/rc: line 11: /proc/sys/net/ipv4/ip_forward\r: No such file or directory\nother\r\n',
    encoding: 'utf8',
  })
  const dos =
    "$'/proc/sys/net/ipv4/ip_forward\\r' does not exist on this kernel (the script has DOS line ends: the name ends in a carriage return); not set"
  t.equal(
    sed.stdout,
    'P: /x/rc:7: divergence: /proc/sys/net/ipv4/ip_masq_debug does not exist on this kernel (masquerading has no debug level now); not set\n' +
      'P: /x/rc:9: divergence: /proc/sys/net/ipv4/nope does not exist on this kernel; not set\nother\n' +
      `P: /x/rc:11: divergence: ${dos}\nother\r\n`,
    "run: the notes replace bash's lines (a carriage return in the name shown as bash quotes it); other lines are left alone",
  )
  t.equal(missingKnobNote('/proc/sys/net/ipv4/ip_forward\r'), dos, 'translate: the same note for a name read from a DOS line')
})

const SCRIPT = `#!/bin/sh
echo 1 > /proc/sys/net/ipv4/ip_forward
echo "1" > /proc/sys/net/ipv4/ip_always_defrag
for f in /proc/sys/net/ipv4/conf/*/rp_filter; do echo 1 > $f; done
ipchains -A input -j ACCEPT
`

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  const tmp = mkdtempSync(join(tmpdir(), 'lfw-sysctl-test-'))
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
  const path = join(tmp, 'sysctl.sh')
  writeFileSync(path, SCRIPT)

  t.test('translate: --sysctl-out and the report', async (t) => {
    const out = join(tmp, 'out.conf')
    const hostForward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')
    const r = spawnSync('env', withoutTapLoader([LEGACYFW, 'translate', '--no-mirror', '--iface', 'eth0=10.1.1.1/24', '--sysctl-out', out, path]), {
      encoding: 'utf8',
    })
    t.equal(r.status, 0, r.stderr)
    t.equal(
      readFileSync(out, 'utf8'),
      `# sysctl.sh, translated by legacyfw: the kernel settings the script makes (/etc/sysctl.d/, or sysctl -p FILE).
# script:2
net.ipv4.ip_forward = 1
# script:4
net.ipv4.conf.all.rp_filter = 1
# script:4
net.ipv4.conf.default.rp_filter = 1
# script:4
net.ipv4.conf.eth0.rp_filter = 1
# script:4
net.ipv4.conf.lo.rp_filter = 1
`,
    )
    t.match(r.stderr, /^script:2: sysctl: net\.ipv4\.ip_forward = 1 /m)
    t.match(
      r.stderr,
      /^script:3: divergence: \/proc\/sys\/net\/ipv4\/ip_always_defrag does not exist on this kernel \(connection tracking always defragments now\); not set$/m,
    )
    t.equal(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8'), hostForward, "the host's setting is unchanged")
  })

  t.test('run: settings applied, a missing knob is one divergence note', async (t) => {
    await withNetns('sysctl', (ns) => {
      const r = inNetns(ns, [LEGACYFW, 'run', path])
      t.equal(r.status, 0, r.stderr)
      t.equal(
        r.stderr,
        `legacyfw run: ${path}:3: divergence: /proc/sys/net/ipv4/ip_always_defrag does not exist on this kernel (connection tracking always defragments now); not set\n`,
      )
      t.equal(inNetns(ns, ['cat', '/proc/sys/net/ipv4/ip_forward']).stdout, '1\n', 'ip_forward set in the namespace')
    })
  })
}
