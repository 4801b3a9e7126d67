import { runScriptText } from '/work/wt-14/src/script/sandbox.ts'
import { readFileSync } from 'node:fs'
const r = await runScriptText({ fresh: true }, readFileSync(process.argv[2]!, 'utf8'), 'x.sh', { serve: { commands: ['ipchains'] }, timeoutMs: 15000 })
console.log(r)
