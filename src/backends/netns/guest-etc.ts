/** The synthesised /etc files of a netns bottle (docs/architecture.md §8.2, step 5). Pure. */
import { GUEST_HOME, GUEST_UID, GUEST_USER } from '../../plan/bottle-plan.js';

export function guestEtcFiles(hostAddr: string): Record<string, string> {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\n${GUEST_USER}:x:${GUEST_UID}:${GUEST_UID}:bot-bottle agent:${GUEST_HOME}:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\n${GUEST_USER}:x:${GUEST_UID}:\nnogroup:x:65534:\n`,
    hosts: `127.0.0.1 localhost\n::1 localhost\n${hostAddr} egress git-gate supervise\n`,
    // No nameserver: names other than the sidecars resolve only through the egress proxy.
    'resolv.conf': '# bot-bottle: no DNS resolver in this bottle; use the egress proxy\n',
    'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
    hostname: 'bottle\n',
  };
}
