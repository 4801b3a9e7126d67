// Kernel settings a firewall script makes through /proc/sys: the ones this
// kernel has (found by comparing /proc/sys/net before and after the script)
// become an /etc/sysctl.d file; the 2.0/2.2 knobs it lacks (bash's
// "No such file or directory" for the redirect) become a divergence note.
// Pure: the snapshots and the script's stderr are read by the callers.

/** What 2.0/2.2 knobs modern kernels lack did, and why nothing replaces them here. */
const GONE: Readonly<Record<string, string>> = {
  ip_always_defrag: 'connection tracking always defragments now',
  ip_masq_debug: 'masquerading has no debug level now',
  ip_masq_udp_dloose: 'masqueraded UDP replies must come from the address the request went to',
}

/** Why a name ending in a carriage return does not exist: bash read it from a line ending in CR LF. */
const DOS_LINE = 'the script has DOS line ends: the name ends in a carriage return'

/** The divergence note of a /proc/sys path this kernel lacks (a trailing carriage return shown as bash quotes it). */
export const missingKnobNote = (path: string): string => {
  if (path.endsWith('\r')) return `$'${path.slice(0, -1)}\\r' does not exist on this kernel (${DOS_LINE}); not set`
  const knob = path.split('/').pop() ?? path
  const why = GONE[knob]
  return `${path} does not exist on this kernel${why === undefined ? '' : ` (${why})`}; not set`
}

/**
 * A sed program (-E) that turns bash's message for a missing /proc/sys path
 * into the divergence note, `PREFIX FILE:LINE: divergence: ...`, and leaves
 * every other line alone (legacyfw run filters the script's stderr with it).
 */
export const missingKnobSed = (prefix: string): string => {
  const error = (path: string) => `^(.*): line ([0-9]+): (${path}): No such file or directory$`
  const note = (why: string) => `${prefix}\\1:\\2: divergence: \\3 does not exist on this kernel${why}; not set`
  return [
    `s#^(.*): line ([0-9]+): (/proc/sys/[^:]+)\\r: No such file or directory$#${prefix}\\1:\\2: divergence: $'\\3\\\\r' does not exist on this kernel (${DOS_LINE}); not set#;t`,
    ...Object.entries(GONE).map(([knob, why]) => `s#${error(`/proc/sys/[^:]*/${knob}`)}#${note(` (${why})`)}#;t`),
    `s#${error('/proc/sys/[^:]+')}#${note('')}#`,
  ].join('\n')
}

/** bash's message for a redirect to a /proc/sys path that does not exist: file, line, path. */
export const missingKnobError = (line: string): { file: string; line: number; path: string } | undefined => {
  const m = /^(.*): line (\d+): (\/proc\/sys\/[^:]+): No such file or directory$/.exec(line)
  return m ? { file: m[1] as string, line: Number(m[2]), path: m[3] as string } : undefined
}

/** `grep -r '' /proc/sys/net` output: path -> value (the first line of each file). */
export const parseSnapshot = (text: string): Map<string, string> => {
  const values = new Map<string, string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && !values.has(line.slice(0, colon))) values.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return values
}

/** Counts the kernel changes by itself, and the sandbox's own veth peers. */
const VOLATILE = /\/(nf_conntrack_count|nf_conntrack_expect_count)$|\/lfwpeer\d+\//

/** The settings the script changed: path -> new value, in path order. */
export const changedSettings = (before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): [string, string][] =>
  [...after]
    .filter(([path, value]) => before.has(path) && before.get(path) !== value && !VOLATILE.test(path))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

/** /proc/sys/net/ipv4/ip_forward -> net.ipv4.ip_forward (slashes kept when a part has a dot: eth0.5). */
export const sysctlKey = (path: string): string => {
  const parts = path.replace(/^\/proc\/sys\//, '').split('/')
  return parts.some((p) => p.includes('.')) ? parts.join('/') : parts.join('.')
}

/**
 * The script line that sets `path`: the first that names it (or its sysctl
 * key), else the first naming a /proc/sys path and its last part (a loop
 * over conf/IFACE/rp_filter writing `> $f`); undefined when none does, as for
 * what the kernel changes along (conf/IFACE/forwarding after ip_forward).
 */
export const settingLine = (scriptText: string, path: string): number | undefined => {
  const lines = scriptText.split('\n').map((l) => l.replace(/(^|\s)#.*$/, ''))
  const knob = path.split('/').pop() ?? ''
  const key = sysctlKey(path)
  const exact = lines.findIndex((l) => l.includes(path) || l.includes(key))
  if (exact >= 0) return exact + 1
  const loose = lines.findIndex((l) => l.includes('/proc/sys/') && l.includes(knob))
  return loose >= 0 ? loose + 1 : undefined
}

/** The /etc/sysctl.d file of the settings, each after a comment naming its line. */
export const sysctlFile = (source: string, settings: readonly { key: string; value: string; where: string }[]): string =>
  `# ${source}, translated by legacyfw: the kernel settings the script makes (/etc/sysctl.d/, or sysctl -p FILE).\n` +
  settings.map((s) => `# ${s.where}\n${s.key} = ${s.value.replaceAll('\t', ' ')}\n`).join('')
