/**
 * What "the bottle CA is trusted" means inside a bottle, in one place: the CA at the plan's guest
 * cert path, and a bundle at the guest bundle path holding the runtime's own system roots (the
 * first readable of SYSTEM_CA_BUNDLES) followed by the bottle CA. Provisioning does it with one
 * sandboxed exec (installCaScript); a backend whose guest home is a host directory writes the same
 * bytes itself while the sidecars start (caBundleText), and says so with RunningBottle.caTrusted.
 */

/** Debian/Ubuntu/Alpine, then Fedora/RHEL. */
export const SYSTEM_CA_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'] as const;

/** The first readable of SYSTEM_CA_BUNDLES through `read` (which throws for a missing file), or null. */
export function systemRoots(read: (path: string) => string): string | null {
  for (const f of SYSTEM_CA_BUNDLES) {
    try {
      return read(f);
    } catch {
      // the next layout
    }
  }
  return null;
}

/** The bundle's bytes: system roots (if any), a newline, then the bottle CA. */
export function caBundleText(systemRoots: string | null, caPem: string): string {
  return systemRoots === null ? caPem : `${systemRoots}\n${caPem}`;
}

/** Shell for the sandboxed exec: the CA from stdin to $1, then the bundle $2 (caBundleText's layout). */
export function installCaScript(): string {
  return (
    'set -e; mkdir -p "$(dirname "$1")" "$(dirname "$2")"; cat > "$1"; chmod 644 "$1"; ' +
    `for f in ${SYSTEM_CA_BUNDLES.join(' ')}; do ` +
    'if [ -r "$f" ]; then cat "$f"; echo; break; fi; done > "$2"; cat "$1" >> "$2"; chmod 644 "$2"'
  );
}
