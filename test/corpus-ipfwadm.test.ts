// Every corpus ipfwadm script with active commands runs unchanged through
// bin/ipfwadm without a crash (test/helpers/corpus.ts).
import t from 'tap'
import { CORPUS, activeScripts, testCorpusScripts } from './helpers/corpus.ts'
import { requireRootAndNft } from './helpers/netns.ts'

const DIR = `${CORPUS}/ipfwadm`

/** Files some scripts read or run from the host: the companion corpus file the MANIFEST names. */
const COMPANIONS: Record<string, Record<string, string>> = {
  'ipmasq-howto-2005-firewall-ipfwadm-initscript.sh': { '/etc/rc.d/rc.firewall-ipfwadm': `${DIR}/ipmasq-howto-2005-rc.firewall-ipfwadm.sh` },
}

/** Scripts that never reach an ipfwadm command here, and why. */
const NO_CALLS: Record<string, string> = {
  'freeswan-_updown.sh': 'exits at "unknown interface version `\'" without the PLUTO_* environment pluto runs it with',
}

const missing = requireRootAndNft()
if (missing) t.fail(missing)
else {
  const scripts = activeScripts('ipfwadm')
  t.ok(scripts.length >= 20, `${scripts.length} ipfwadm scripts`)
  testCorpusScripts(t, 'ipfwadm', scripts, { companions: COMPANIONS, noCalls: NO_CALLS })
}
