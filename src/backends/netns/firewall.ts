/**
 * The per-bottle nftables table (docs/architecture.md §8.2, step 3;
 * docs/decisions/netns-firewall.md). A table of its own so teardown is one delete.
 *
 * - `sidecar_ports` is a named set, EMPTY when the table is created: the backend adds the port of
 *   each daemon the supervisor reported ready, so a port with no running daemon behind it (or a
 *   host service that happens to listen there) is never reachable from the bottle.
 * - From the bottle's veth only TCP to those ports on the host-end address is accepted; everything
 *   else from it (IPv6 included), and every forwarded packet in or out of it, is dropped.
 * - The host-end address answers nobody else: a packet for it arriving on any interface other than
 *   the veth or `lo` (a container bridge, the LAN) is dropped, and a locally generated one is
 *   dropped unless its socket belongs to root (the launcher, `list active`'s probe) or to this
 *   bottle's own sidecar uid (its daemons' own sockets). Likewise nothing but root and
 *   that uid sends into the veth: another local user cannot reach a listener the agent opens.
 *   Packets without a full socket (kernel replies, SYN-ACKs) do not match `meta skuid` and pass.
 */
export const PORT_SET = 'sidecar_ports';

export function firewallRuleset(table: string, vethHost: string, hostAddr: string, sidecarUid: number): string {
  return (
    `table inet ${table} {\n` +
    `  set ${PORT_SET} {\n    type inet_service;\n  }\n` +
    `  chain input {\n    type filter hook input priority -10; policy accept;\n` +
    `    iifname "${vethHost}" ip daddr ${hostAddr} tcp dport @${PORT_SET} accept\n` +
    `    iifname "${vethHost}" drop\n` +
    `    iifname != "lo" ip daddr ${hostAddr} drop\n  }\n` +
    `  chain output {\n    type filter hook output priority -10; policy accept;\n` +
    `    ip daddr ${hostAddr} meta skuid != 0 meta skuid != ${sidecarUid} drop\n` +
    `    oifname "${vethHost}" meta skuid != 0 meta skuid != ${sidecarUid} drop\n  }\n` +
    `  chain forward {\n    type filter hook forward priority -10; policy accept;\n` +
    `    iifname "${vethHost}" drop\n    oifname "${vethHost}" drop\n  }\n` +
    `}\n`
  );
}

/** `nft -f -` input that opens `ports` (the daemons reported ready); empty input for none. */
export function openPortsCommand(table: string, ports: readonly number[]): string {
  const uniq = [...new Set(ports)].filter((p) => Number.isInteger(p) && p > 0 && p < 65536).sort((a, b) => a - b);
  return uniq.length > 0 ? `add element inet ${table} ${PORT_SET} { ${uniq.join(', ')} }\n` : '';
}
