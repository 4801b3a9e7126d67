// Module commands of the firewall modules (translate/era/modules.ts,
// tools/modules.ts): recognised in every spelling; under `legacyfw run` a
// firewall module loads silently, any other module is the real tool's.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inNetns, requireRootAndNft, withNetns } from './helpers/netns.ts'
import { firewallModule, moduleWords } from '../src/translate/era/modules.ts'
import { SERVED_COMMANDS, servedCommand } from '../src/tools/registry.ts'

const ROOT = new URL('..', import.meta.url).pathname

t.test('firewall modules', async (t) => {
  for (const m of [
    'ipchains',
    'ipfwadm',
    'ip_tables',
    'iptable_nat',
    'ip_conntrack',
    'nf_conntrack',
    'ipt_MASQUERADE',
    'ip-conntrack-tftp',
    '/lib/modules/2.2.16/ipv4/ipchains.o',
    'iptable_filter.ko',
  ])
    t.equal(firewallModule(m), 'firewall', m)
  for (const m of ['ip_masq_ftp', 'ip_masq_raudio', '/lib/modules/2.2.16/ipv4/ip_masq_irc.o', 'ip_conntrack_ftp', 'nf_nat_sip'])
    t.equal(firewallModule(m), 'masq-helper', m)
  for (const m of ['ip_masq_autofw', 'ip_masq_portfw', 'ip_masq_mfw']) t.equal(firewallModule(m), 'firewall', m)
  for (const m of ['ne2k-pci', 'ppp_deflate', 'ipv6', 'bonding', 'ip_gre']) t.equal(firewallModule(m), undefined, m)
})

t.test('the module words of a call', async (t) => {
  t.same(moduleWords('modprobe', ['ip_masq_ftp', 'ports=21,2121']), { modules: ['ip_masq_ftp'], rest: ['ports=21,2121'] })
  t.same(moduleWords('modprobe', ['-a', 'ip_masq_ftp', 'ip_masq_irc']), { modules: ['ip_masq_ftp', 'ip_masq_irc'], rest: ['-a'] })
  t.same(moduleWords('modprobe', ['-r', 'ipchains', 'ip_masq_ftp']), { modules: ['ipchains', 'ip_masq_ftp'], rest: ['-r'] })
  t.same(moduleWords('modprobe', ['-k', '-t', 'net', 'ipchains']), { modules: ['ipchains'], rest: ['-k', '-t', 'net'] })
  t.same(moduleWords('modprobe', ['-l']), { modules: [], rest: ['-l'] })
  t.same(moduleWords('insmod', ['-f', 'ip_masq_ftp.o', 'ports=21']), { modules: ['ip_masq_ftp.o'], rest: ['-f', 'ports=21'] })
  t.same(moduleWords('rmmod', ['ip_masq_ftp', 'ipchains']), { modules: ['ip_masq_ftp', 'ipchains'], rest: [] })
})

t.test('run and translate serve the module commands (they act on the helper table)', async (t) => {
  for (const tool of ['modprobe', 'insmod', 'rmmod']) t.ok(SERVED_COMMANDS.includes(tool) && servedCommand(tool)?.table, `${tool} is served`)
})

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else
  t.test('legacyfw run: firewall modules load silently, others are the real tool', async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'lfw-modules-test-'))
    t.teardown(() => rmSync(tmp, { recursive: true, force: true }))
    const path = join(tmp, 'modules.sh')
    writeFileSync(
      path,
      `/sbin/modprobe ip_masq_ftp; echo "masq $?"
insmod /lib/modules/2.2.16/ipv4/ipchains.o; echo "insmod $?"
modprobe -a ip_conntrack_ftp ip_nat_ftp; echo "all $?"
sh -c 'modprobe ipfwadm'; echo "sh $?"
rmmod ipchains; echo "rmmod $?"
modprobe legacyfw_no_such_module_xyz; [ $? != 0 ] && echo "other failed"
`,
    )
    await withNetns('modules', (ns) => {
      const r = inNetns(ns, [join(ROOT, 'bin/legacyfw'), 'run', path])
      t.match(r.stdout, 'masq 0\ninsmod 0\nall 0\nsh 0\nrmmod 0\nother failed\n')
      t.equal(
        r.stderr.split('\n').filter((l) => l !== '' && !/legacyfw_no_such_module_xyz|modprobe: command not found/.test(l)).length,
        0,
        `only the other module's error: ${r.stderr}`,
      )
      t.match(
        r.stderr,
        /legacyfw_no_such_module_xyz|modprobe: command not found/,
        "the real modprobe's error for another module (or none installed)",
      )
    })
  })
