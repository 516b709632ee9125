/**
 * The per-bottle nftables table (docs/architecture.md §8.2, step 3): from the host end of the veth
 * only TCP to the sidecar ports on the host-end address is accepted; everything else from it, and
 * every forwarded packet in or out of it, is dropped. A table of its own so teardown is one delete.
 */
export function firewallRuleset(table: string, vethHost: string, hostAddr: string, ports: readonly number[]): string {
  const portSet = ports.length > 0 ? `tcp dport { ${ports.join(', ')} } ` : '';
  const accept = ports.length > 0 ? `    iifname "${vethHost}" ip daddr ${hostAddr} ${portSet}accept\n` : '';
  return (
    `table inet ${table} {\n` +
    `  chain input {\n    type filter hook input priority -10; policy accept;\n` +
    accept +
    `    iifname "${vethHost}" drop\n  }\n` +
    `  chain forward {\n    type filter hook forward priority -10; policy accept;\n` +
    `    iifname "${vethHost}" drop\n    oifname "${vethHost}" drop\n  }\n` +
    `}\n`
  );
}
