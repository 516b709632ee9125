/**
 * How the sidecar supervisor of a netns bottle is started as its own unprivileged uid
 * (docs/decisions/netns-sidecar-uid.md). Pure: argv and environment only.
 *
 * The package, the node binary and the state dir may sit under directories another uid cannot
 * traverse (/root is 0700, so is a `mktemp -d` install prefix). Nothing of the user's is chmodded:
 * a root shell in a private mount namespace mounts a small tmpfs on SIDECAR_MOUNT and bind-mounts
 * what the sidecars need there, then `setpriv` drops to the bottle's uid and execs the supervisor:
 *
 *   <mnt>/pkg    the package root (read-only)    <mnt>/node   the node binary (read-only)
 *   <mnt>/state  the bottle's state dir          <mnt>/home   HOME, owned by the uid
 *   <mnt>/files  root-made copies of host files named by the sidecar env (upstream CA bundles)
 *
 * plus /etc/passwd and /etc/group copies with an entry for the uid (ssh refuses to run as a uid it
 * cannot name). The mounts exist only in that namespace: they vanish with its last process.
 */
import { SIDECAR_MOUNT } from './names.js';

export { SIDECAR_MOUNT };

/** Sidecar env keys naming a host file the sidecars read but may not reach: copied into <mnt>/files. */
export const COPIED_FILE_VARS = ['EGRESS_UPSTREAM_CA_FILE', 'GIT_GATE_UPSTREAM_CA_FILE'] as const;

export interface StagingTools {
  unshare: string;
  mount: string;
  setpriv: string;
  sh: string;
}

export interface StagingInput {
  tools: StagingTools;
  uid: number;
  stateDir: string;
  /** The package root and node binary to stage; null = a stand-in command that runs from where it is. */
  self: { pkgRoot: string; node: string; main: string } | null;
  /** Non-secret sidecar env of the plan (BOT_BOTTLE_SLUG, test/demo settings). */
  env: Readonly<Record<string, string>>;
  mountPoint?: string;
}

export interface Staging {
  /** argv run (as root, after the cgroup join) that ends by exec-ing the supervisor argv appended to it. */
  prefix: string[];
  /** `--config` as the supervisor sees it. */
  configDir: string;
  /** How to run `bot-bottle <args>` inside: the staged node + main, or null = the caller's command. */
  self: { command: string; args: string[] } | null;
  /** The supervisor's HOME and the plan env with host paths rewritten to staged ones. */
  env: Record<string, string>;
}

/**
 * The stage script: $1 mount point, $2 uid, $3 state dir, $4 package root ('' = none), $5 node,
 * $6 mount binary, then `src name` pairs up to `--`, then the command to exec. `set -e`: a failed
 * step fails the launch instead of running the sidecars half staged.
 */
export const STAGE_SCRIPT = [
  'set -e',
  'm=$1 u=$2 state=$3 pkg=$4 node=$5 M=$6; shift 6',
  '"$M" -t tmpfs -o mode=0755,nosuid,nodev,size=8m,nr_inodes=1024 bb-sidecar "$m"',
  'mkdir -m 0755 "$m/state" "$m/files"',
  '"$M" --bind "$state" "$m/state"',
  'if [ -n "$pkg" ]; then',
  '  mkdir -m 0755 "$m/pkg"; "$M" --bind "$pkg" "$m/pkg"; "$M" -o remount,bind,ro,nosuid,nodev "$m/pkg"',
  '  : > "$m/node"; "$M" --bind "$node" "$m/node"; "$M" -o remount,bind,ro,nodev "$m/node"',
  'fi',
  'mkdir -m 0700 "$m/home"; chown "$u:$u" "$m/home"',
  'while [ "$1" != -- ]; do cp -- "$1" "$m/files/$2"; chmod 0444 "$m/files/$2"; shift 2; done; shift',
  'for db in passwd group; do',
  '  [ -f "/etc/$db" ] || continue',
  '  cat "/etc/$db" > "$m/$db"',
  '  if [ "$db" = passwd ]; then echo "bb-sidecar:x:$u:$u:bot-bottle sidecar:$m/home:/usr/sbin/nologin"; else echo "bb-sidecar:x:$u:"; fi >> "$m/$db"',
  '  chmod 0644 "$m/$db"; "$M" --bind "$m/$db" "/etc/$db"',
  'done',
  // the launcher's working directory may be unreachable for the uid (and names a host path)
  'cd "$m/home"; unset OLDPWD',
  'exec "$@"',
].join('\n');
export const STAGE_NAME = 'bb-sidecar-stage';

/** The `setpriv` argv that drops every privilege before anything is parsed. */
export function dropArgv(setpriv: string, uid: number): string[] {
  return [setpriv, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
}

export function sidecarStaging(input: StagingInput): Staging {
  const m = input.mountPoint ?? SIDECAR_MOUNT;
  const stateDir = input.stateDir.replace(/\/+$/, '');
  const configDir = `${m}/state`;
  const env: Record<string, string> = {};
  const copies: string[] = [];
  for (const [k, v] of Object.entries(input.env)) {
    if (v === stateDir || v.startsWith(`${stateDir}/`)) env[k] = `${configDir}${v.slice(stateDir.length)}`;
    else if ((COPIED_FILE_VARS as readonly string[]).includes(k) && v.startsWith('/')) {
      const name = `${copies.length / 2}`;
      copies.push(v, name);
      env[k] = `${m}/files/${name}`;
    } else env[k] = v;
  }
  env.HOME = `${m}/home`;
  const self = input.self;
  let staged: Staging['self'] = null;
  if (self) {
    const rel = self.main.startsWith(`${self.pkgRoot}/`) ? self.main.slice(self.pkgRoot.length + 1) : null;
    if (rel === null) throw new Error(`sidecar entry ${self.main} is not inside ${self.pkgRoot}`);
    staged = { command: `${m}/node`, args: [`${m}/pkg/${rel}`] };
  }
  const prefix = [
    input.tools.unshare, '--mount', '--propagation', 'private', '--',
    input.tools.sh, '-c', STAGE_SCRIPT, STAGE_NAME, m, String(input.uid), stateDir, self?.pkgRoot ?? '', self?.node ?? '', input.tools.mount,
    ...copies, '--',
    ...dropArgv(input.tools.setpriv, input.uid),
  ];
  return { prefix, configDir, self: staged, env };
}
