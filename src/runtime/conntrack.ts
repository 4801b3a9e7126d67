// The conntrack table as text lines: /proc/net/nf_conntrack where the
// kernel provides it, else `conntrack -L`.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

export const readConntrack = (): string | undefined => {
  try {
    return readFileSync('/proc/net/nf_conntrack', 'utf8')
  } catch {
    const result = spawnSync('conntrack', ['-L', '-f', 'ipv4'], { encoding: 'utf8' })
    return result.status === 0 ? result.stdout : undefined
  }
}
