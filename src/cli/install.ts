// legacyfw install [--root DIR] / legacyfw uninstall [--root DIR]: lay out
// what a 2.2-era gateway had, for the legacyfw installed with npm: the
// legacy commands in /sbin (/usr/sbin where /sbin links to it), legacyfw
// itself as /usr/sbin/legacyfw, a modprobe.d file sending the masquerading
// helper modules to `legacyfw modprobe`, the systemd units, the man pages.
// A manifest records each file laid down (with its digest) and each
// directory made, so that uninstall removes exactly those. --root works as
// DESTDIR: files go below it, the paths written into them are the final ones.
import { createHash } from 'node:crypto'
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, rmdirSync, writeFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import yargsParser from 'yargs-parser'
import { projectPath } from '../runtime/project.ts'
import type { Io } from '../runtime/sys.ts'
import { LEGACY_COMMANDS } from '../tools/registry.ts'
import { HELPER_MODULES } from '../translate/alg/model.ts'

/** Where the units and the modprobe.d file find legacyfw. */
export const LEGACYFW_PATH = '/usr/sbin/legacyfw'
export const MANIFEST = '/var/lib/legacyfw/manifest'
/** The boot unit's settings: the admin's script and its arguments. */
export const BOOT_CONFIG = '/etc/default/legacyfw'
export const MODPROBE_CONF = '/etc/modprobe.d/legacyfw.conf'
export const UNIT_DIR = '/usr/lib/systemd/system'
export const MAN_DIR = '/usr/share/man/man8'

interface Item {
  /** The path on the installed system (below --root). */
  readonly path: string
  readonly text: string
  readonly mode: number
}

/** A two-line shell wrapper: absolute paths, so it works from modprobe, systemd and any PATH. */
const wrapper = (command: string): string =>
  `#!/bin/sh\n# ${command} of legacyfw (legacyfw install); legacyfw uninstall removes it.\nexec ${shellQuote(process.execPath)} ${shellQuote(projectPath('bin', command))} "$@"\n`

const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`

// The nf_* names are still the kernel's own modules: a modular kernel loads
// nf_conntrack_ftp itself when an nft ct helper "ftp" is made (legacyfw's
// too), through this very install line. So for them the line loads the
// real module first (--ignore-install; -q: a kernel without modules just
// goes on), and unloads it once legacyfw's helper is gone; the status is
// legacyfw's.
const kernelModule = (m: string): boolean => m.startsWith('nf_')

const modprobeLines = (m: string): string[] =>
  kernelModule(m)
    ? [
        `install ${m} /sbin/modprobe -q --ignore-install ${m} $CMDLINE_OPTS; ${LEGACYFW_PATH} modprobe ${m} $CMDLINE_OPTS`,
        `remove ${m} ${LEGACYFW_PATH} modprobe -r ${m} && { /sbin/modprobe -q -r --ignore-remove ${m} || :; }`,
      ]
    : [`install ${m} ${LEGACYFW_PATH} modprobe ${m} $CMDLINE_OPTS`, `remove ${m} ${LEGACYFW_PATH} modprobe -r ${m}`]

const modprobeConf = (): string =>
  [
    '# legacyfw install: a plain modprobe of a masquerading helper module (any era',
    '# name) reaches legacyfw, which provides the helper on nftables. legacyfw',
    '# uninstall removes this file.',
    ...Object.keys(HELPER_MODULES).flatMap(modprobeLines),
    '',
  ].join('\n')

const bootConfig = (): string => `# legacyfw-boot.service runs this script through \`legacyfw run\` at boot,
# after nftables.service and before the network comes up, with these
# arguments: the rc.firewall of the 2.0/2.2 box, unchanged (man legacyfw).
# Enable it with: systemctl enable legacyfw-boot.service
LEGACYFW_SCRIPT=/etc/rc.d/rc.firewall
LEGACYFW_ARGS=start
`

// Both units run early, as nftables.service does, and after it: its
// /etc/nftables.conf usually begins with "flush ruleset", which would drop
// the tables legacyfw loaded before it.
const EARLY = `DefaultDependencies=no
Wants=network-pre.target
After=local-fs.target systemd-sysctl.service nftables.service
Before=network-pre.target shutdown.target
Conflicts=shutdown.target`

const bootUnit = (): string => `[Unit]
Description=Firewall script of a 2.0/2.2 gateway (legacyfw run)
Documentation=man:legacyfw(8) man:ipchains(8) man:ipfwadm(8)
${EARLY}

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=${BOOT_CONFIG}
ExecStart=${LEGACYFW_PATH} run \${LEGACYFW_SCRIPT} $LEGACYFW_ARGS

[Install]
WantedBy=sysinit.target
`

const runtimeUnit = (): string => `[Unit]
Description=legacyfw resident runtime: packet log lines and masquerading helpers of a translation loaded with nft -f
Documentation=man:legacyfw(8)
${EARLY} legacyfw-boot.service

[Service]
Type=simple
ExecStart=${LEGACYFW_PATH} runtime
Restart=on-failure

[Install]
WantedBy=sysinit.target
`

/** /sbin is a link to usr/sbin (merged /usr): the commands go to /usr/sbin, where it points. */
const mergedUsr = (root: string): boolean => {
  try {
    return posix.resolve('/', readlinkSync(join(root, 'sbin'))) === '/usr/sbin'
  } catch {
    return false
  }
}

export const layout = (root: string): Item[] => {
  const sbin = mergedUsr(root) ? '/usr/sbin' : '/sbin'
  const manPages = readdirSync(projectPath('man')).filter((f) => f.endsWith('.8'))
  return [
    ...LEGACY_COMMANDS.map((c) => ({ path: `${sbin}/${c}`, text: wrapper(c), mode: 0o755 })),
    { path: LEGACYFW_PATH, text: wrapper('legacyfw'), mode: 0o755 },
    { path: MODPROBE_CONF, text: modprobeConf(), mode: 0o644 },
    { path: BOOT_CONFIG, text: bootConfig(), mode: 0o644 },
    { path: `${UNIT_DIR}/legacyfw-boot.service`, text: bootUnit(), mode: 0o644 },
    { path: `${UNIT_DIR}/legacyfw-runtime.service`, text: runtimeUnit(), mode: 0o644 },
    ...manPages.map((page) => ({ path: `${MAN_DIR}/${page}`, text: readFileSync(projectPath('man', page), 'utf8'), mode: 0o644 })),
  ]
}

const digest = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex')

interface Manifest {
  readonly files: ReadonlyMap<string, string>
  readonly dirs: readonly string[]
}

const writeManifest = (m: Manifest): string =>
  [
    '# legacyfw install: what it laid down below this root; legacyfw uninstall removes exactly this',
    ...m.dirs.map((d) => `dir ${d}`),
    ...[...m.files].map(([path, sum]) => `file ${sum} ${path}`),
    '',
  ].join('\n')

const readManifest = (text: string): Manifest => {
  const files = new Map<string, string>()
  const dirs: string[] = []
  for (const line of text.split('\n')) {
    const dir = /^dir (\/.*)$/.exec(line)
    const file = /^file ([0-9a-f]{64}) (\/.*)$/.exec(line)
    if (dir) dirs.push(dir[1] as string)
    if (file) files.set(file[2] as string, file[1] as string)
  }
  return { files, dirs }
}

const exists = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false }) !== undefined

/** The directories of `path` (outermost first) that do not exist yet below root. */
const missingDirs = (root: string, path: string): string[] => {
  const dirs: string[] = []
  for (let d = posix.dirname(path); d !== '/' && !exists(join(root, d)); d = posix.dirname(d)) dirs.unshift(d)
  return dirs
}

/** A one-line refusal: nothing was changed. */
class Refused extends Error {}

const install = (root: string, io: Io): number => {
  if (exists(join(root, MANIFEST))) throw new Refused(`already installed below ${root} (${MANIFEST}); legacyfw uninstall first`)
  const items = layout(root)
  // The boot script's settings are the admin's: an existing file is kept as it is.
  const kept = items.filter((i) => i.path === BOOT_CONFIG && exists(join(root, i.path)))
  const laid = items.filter((i) => !kept.includes(i))
  const taken = laid.find((i) => exists(join(root, i.path)))
  if (taken) throw new Refused(`${taken.path} exists and is not legacyfw's; move it away first`)
  const dirs: string[] = []
  const files = new Map<string, string>()
  try {
    // As DESTDIR: the root itself is made when missing (and stays; it is the caller's).
    mkdirSync(root, { recursive: true })
    for (const item of [...laid, { path: MANIFEST, text: '', mode: 0o644 }])
      for (const d of missingDirs(root, item.path)) {
        mkdirSync(join(root, d))
        dirs.push(d)
        // Modes as on any system, whatever the caller's umask.
        chmodSync(join(root, d), 0o755)
      }
    for (const item of laid) {
      writeFileSync(join(root, item.path), item.text, { flag: 'wx' })
      files.set(item.path, digest(item.text))
      chmodSync(join(root, item.path), item.mode)
    }
    writeFileSync(join(root, MANIFEST), writeManifest({ files, dirs }), { flag: 'wx' })
  } catch (e) {
    // Undo: what this run made goes again.
    for (const path of files.keys()) rmSync(join(root, path), { force: true })
    for (const d of [...dirs].reverse()) rmSync(join(root, d), { recursive: true, force: true })
    throw new Refused(`${(e as Error).message}; nothing was changed`)
  }
  for (const path of files.keys()) io.out(`${path}\n`)
  for (const item of kept) io.out(`${item.path} (kept as it was)\n`)
  return 0
}

const uninstall = (root: string, io: Io): number => {
  let text: string
  try {
    text = readFileSync(join(root, MANIFEST), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    throw new Refused(`nothing installed below ${root} (no ${MANIFEST})`)
  }
  const manifest = readManifest(text)
  for (const [path, sum] of manifest.files) {
    const file = join(root, path)
    let now: Buffer | undefined
    try {
      now = readFileSync(file)
    } catch {
      now = undefined
    }
    if (now !== undefined && digest(now) !== sum) io.err(`legacyfw uninstall: ${path} changed since install; kept\n`)
    else {
      rmSync(file, { force: true })
      if (now !== undefined) io.out(`${path}\n`)
    }
  }
  rmSync(join(root, MANIFEST), { force: true })
  // Directories install made, innermost first, while empty.
  for (const d of [...manifest.dirs].reverse())
    try {
      rmdirSync(join(root, d))
    } catch {
      // not empty: something else lives there now
    }
  return 0
}

export const installMain = (command: 'install' | 'uninstall', argv: readonly string[], io: Io): number => {
  const o = yargsParser([...argv], { string: ['root'], configuration: { 'unknown-options-as-args': true, 'duplicate-arguments-array': false } })
  const extra = o._.map(String)
  if (extra.length > 0 || o['root'] === '') {
    io.err(`legacyfw ${command}: ${extra.length > 0 ? `unexpected ${extra[0]}` : '--root needs a DIR'} (legacyfw --help tells more)\n`)
    return 2
  }
  const root = (o['root'] as string | undefined) ?? '/'
  try {
    return command === 'install' ? install(root, io) : uninstall(root, io)
  } catch (e) {
    // A file system error outside the undoable part (reading what is there) also changed nothing.
    if (!(e instanceof Refused) && (e as NodeJS.ErrnoException).code === undefined) throw e
    io.err(`legacyfw ${command}: ${(e as Error).message}\n`)
    return 1
  }
}
