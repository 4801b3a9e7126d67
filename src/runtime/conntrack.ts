// The conntrack table as text lines: `conntrack -L`, which names the
// helper assigned to a connection (helper=ftp: the helper listings need
// it), else /proc/net/nf_conntrack where the kernel provides it.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

export const readConntrack = (): string | undefined => {
  const result = spawnSync('conntrack', ['-L', '-f', 'ipv4'], { encoding: 'utf8' })
  if (result.status === 0) return result.stdout
  try {
    return readFileSync('/proc/net/nf_conntrack', 'utf8')
  } catch {
    return undefined
  }
}
