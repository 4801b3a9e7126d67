// bin/legacyfw
import { writeSync } from 'node:fs'
import { legacyfwMain } from './legacyfw.ts'

const write = (fd: number) => (text: string) => {
  writeSync(fd, text)
}
void legacyfwMain(process.argv.slice(2), { out: write(1), err: write(2) }).then((status) => {
  process.exitCode = status
})
