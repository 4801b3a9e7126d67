// Every corpus ipchains script with active commands runs unchanged through
// bin/ipchains without a crash (test/helpers/corpus.ts).
import t from 'tap'
import { CORPUS, activeScripts, crashes, testCorpusScripts } from './helpers/corpus.ts'
import { deleteNetns, newNetns, requireRootAndNft } from './helpers/netns.ts'
import { runScriptText } from '../src/script/sandbox.ts'

const DIR = `${CORPUS}/ipchains`

/**
 * Files some scripts read or run from the host, shown at their paths inside
 * the sandbox: the companion corpus file the MANIFEST names for each.
 */
const COMPANIONS: Record<string, Record<string, string>> = {
  'bastille-ipchains.sh': { '/etc/Bastille/bastille-firewall.cfg': `${DIR}/bastille-firewall.cfg` },
  'firewall-howto-gfcc-initscript.sh': { '/etc/gfcc/rules/firewall.rule.sh': `${DIR}/firewall-howto-gfcc-generated-rules.sh` },
  'ipmasq-howto-2005-firewall-ipchains-initscript.sh': { '/etc/rc.d/rc.firewall-ipchains': `${DIR}/ipmasq-howto-2005-rc.firewall-ipchains.sh` },
}

/** Scripts that never reach an ipchains command here, and why. */
const NO_CALLS: Record<string, string> = {
  'redhat-initscripts-6.86-ifup.sh': 'stops at "Usage: ifup <device name>" without /etc/sysconfig/network-scripts',
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  t.test('the crash check sees a stack trace and a fatal signal', async (t) => {
    const ns = newNetns('corpus')
    try {
      const thrown = await runScriptText(ns, `node -e 'throw new Error("boom")'\n`, 'throw.sh')
      t.not(crashes(thrown).length, 0, 'an uncaught exception', { stderr: thrown.stderr })
      const killed = await runScriptText(ns, `ipchains -L >/dev/null\nbash -c 'kill -SEGV $$'\n`, 'segv.sh')
      t.not(crashes(killed).length, 0, 'a SIGSEGV', { status: killed.status })
      const legacy = await runScriptText(ns, 'ipchains -A input -j nosuch\nipchains -Q\n', 'legacy.sh')
      t.same(crashes(legacy), [], 'legacy error messages are not crashes', { stderr: legacy.toolStderr })
      t.same(
        legacy.calls.map((c) => c.status),
        [1, 2],
        'the legacy exit statuses were recorded',
      )
    } finally {
      deleteNetns(ns)
    }
  })

  const scripts = activeScripts('ipchains')
  t.ok(scripts.length >= 40, `${scripts.length} ipchains scripts`)
  testCorpusScripts(t, 'ipchains', scripts, { companions: COMPANIONS, noCalls: NO_CALLS })
}
