// A script under `legacyfw translate` that tries to reach outside its
// sandbox changes nothing: each attempt runs in its own translation inside
// a stand-in host namespace, and the host's files (canaries, /etc), mounts,
// host name, processes, and the stand-in's ruleset, sysctls, interfaces and
// routes are byte-identical afterwards. The script still sees its own
// changes (it may read back what it wrote), and they vanish with it.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteNetns, inNetns, newNetns, requireRootAndNft } from './helpers/netns.ts'

const LEGACYFW = new URL('../bin/legacyfw', import.meta.url).pathname

/** Names, sizes, modes and modification times of every file below `dir`, as one hash. */
const treeHash = (dir: string): string => {
  const hash = createHash('sha256')
  const walk = (path: string): void => {
    const s = statSync(path, { throwIfNoEntry: false })
    if (!s) return
    hash.update(`${path} ${s.mode} ${s.size} ${s.mtimeMs}\n`)
    if (s.isDirectory() && !s.isSymbolicLink()) for (const e of readdirSync(path).sort()) walk(join(path, e))
  }
  walk(dir)
  return hash.digest('hex')
}

const KERNEL_SYSCTLS = [
  'kernel/domainname',
  'kernel/core_pattern',
  'kernel/dmesg_restrict',
  'vm/dirty_ratio',
  'vm/swappiness',
  'net/core/somaxconn',
]

const hostState = (ns: string, canaries: string): Record<string, string> => {
  const sh = (cmd: string): string => {
    const r = inNetns(ns, ['sh', '-c', cmd])
    return `${r.status}\n${r.stdout}${r.stderr}`
  }
  return {
    canaries: readdirSync(canaries)
      .sort()
      .map((f) => `${f}=${readFileSync(join(canaries, f), 'utf8')}`)
      .join('\n'),
    etc: treeHash('/etc'),
    // Network namespaces that other tests bind under /run/netns come and go meanwhile.
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').replace(/^.* \/run\/netns\/\S+ .* - nsfs .*\n/gm, ''),
    hostname: readFileSync('/proc/sys/kernel/hostname', 'utf8'),
    kernelSysctls: KERNEL_SYSCTLS.map((k) => (existsSync(`/proc/sys/${k}`) ? readFileSync(`/proc/sys/${k}`, 'utf8') : '-')).join(''),
    ruleset: sh('nft list ruleset'),
    links: sh('ip -d link show'),
    addresses: sh('ip addr show'),
    routes: sh('ip route show table all'),
    netSysctls: sh('cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_default_ttl /proc/sys/net/ipv4/conf/all/rp_filter'),
  }
}

// Each attempt is a script of its own; the first line adds a rule so the
// translation shows the server lived through the attempt.
const attempts = (canaries: string, victimPid: number): Record<string, string> => ({
  'remount / read-write, then delete a host file': `mount -o remount,bind,rw /\nmount -o remount,rw /\nrm -f ${canaries}/keep`,
  'overwrite a host file': `echo owned > ${canaries}/keep\ntruncate -s 0 ${canaries}/keep`,
  'write a new file where the host sees it': `echo planted > ${canaries}/planted\necho planted > /tmp/lfw-escape-${process.pid}`,
  'mount over /etc and unmount the tools': `mount -t tmpfs none /etc && echo x > /etc/passwd\numount -l /usr/sbin\numount -l /`,
  'bind a file over a host file': `echo evil > $TMPDIR/evil\nmount --bind $TMPDIR/evil ${canaries}/keep`,
  'enter the host namespaces': `nsenter -t 1 -a sh -c 'rm -f ${canaries}/keep'\nnsenter --mount=/proc/1/ns/mnt --net=/proc/1/ns/net ip link set lo down`,
  chroot: `chroot / sh -c 'rm -f ${canaries}/keep; hostname chrooted'`,
  'host-wide sysctls': `echo '|/bin/evil' > /proc/sys/kernel/core_pattern\necho 7 > /proc/sys/vm/dirty_ratio\nsysctl -w kernel.domainname=evil\necho 1 > /sys/kernel/mm/ksm/run`,
  'network sysctls, interfaces and routes': `echo 1 > /proc/sys/net/ipv4/ip_forward\nip link set eth0 down\nip addr flush dev eth0\nip route flush table main\nip link add lfwevil type veth peer name lfwevil1\nnft flush ruleset`,
  'signal host processes': `kill -9 ${victimPid}\nkill -9 1\nkill -9 -1`,
  'reboot, halt, shut down, change runlevel, stop services': `reboot -f\nhalt -f\npoweroff -f\nshutdown -h now\ninit 0\ntelinit 6\nsystemctl stop nftables\n/sbin/reboot -f\necho b > /proc/sysrq-trigger`,
  'load and unload modules': `modprobe nf_tables\nrmmod nf_tables\ninsmod /nonexistent.ko\necho /bin/evil > /proc/sys/kernel/modprobe`,
  'the host name': `hostname evil\necho evil > /proc/sys/kernel/hostname`,
  'regain privileges': `setpriv --reuid=0 true\nunshare -r sh -c 'mount -o remount,rw /; rm -f ${canaries}/keep'`,
})

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else
  t.test('a script under translate cannot reach outside its sandbox', async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'lfw-escape-test-'))
    const canaries = join(tmp, 'canaries')
    const ns = newNetns('escape')
    // A host process the script would like to kill (outside its namespaces).
    const victim = spawn('sleep', ['600'], { stdio: 'ignore' })
    try {
      inNetns(ns, ['sh', '-c', 'ip link add eth0 type veth peer name eth9 && ip addr add 192.0.2.10/24 dev eth0 && ip link set eth0 up'])
      mkdirSync(canaries)
      writeFileSync(join(canaries, 'keep'), 'canary\n')
      for (const [name, body] of Object.entries(attempts(canaries, victim.pid as number))) {
        const script = join(tmp, 'attempt.sh')
        writeFileSync(script, `ipchains -A input -s 10.0.0.0/8 -j DENY\n${body}\necho mine > $TMPDIR/mine && cat $TMPDIR/mine\n`)
        const before = hostState(ns, canaries)
        const r = inNetns(ns, [LEGACYFW, 'translate', '--no-mirror', '--iface', 'eth0=192.0.2.10/24', script])
        const after = hostState(ns, canaries)
        t.test(name, async (t) => {
          for (const key of Object.keys(before)) t.equal(after[key], before[key], `host ${key} unchanged`)
          t.equal(victim.exitCode, null, 'the host process lives')
          t.notOk(existsSync(`/tmp/lfw-escape-${process.pid}`), 'nothing the script wrote reached the host')
          t.notMatch(r.stderr, /\n\s+at .*:\d+\)?\n|node:internal\//, 'no stack trace')
          if (name.startsWith('signal')) {
            // kill -9 -1 ends every process of the sandbox, legacyfw's server with them: said, not hidden.
            t.equal(r.status, 1)
            t.match(r.stderr, /the script stopped legacyfw's server in the sandbox/)
          } else {
            t.match(r.stdout, /ip saddr 10\.0\.0\.0\/8 counter name "r1" drop/, 'the translation is there')
            t.match(r.stderr, /^mine$/m, 'the script read back its own file')
          }
        })
      }
    } finally {
      victim.kill('SIGKILL')
      deleteNetns(ns)
      rmSync(tmp, { recursive: true, force: true })
      rmSync(`/tmp/lfw-escape-${process.pid}`, { force: true })
    }
  })
