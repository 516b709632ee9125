/**
 * The host firewall of one docker bottle (docs/security-model.md, docker part;
 * docs/decisions/docker-firewall.md): an nftables table of its own, so teardown is one delete.
 * A plain `--internal` network still lets the agent reach the host through the bridge's gateway
 * address and every other host address (INPUT), and Docker's own rules are the only thing between
 * the bridge and the world. This table, at a priority before Docker's, drops:
 * - every packet from the internal bridge to the host itself (INPUT), IPv6 included;
 * - every forwarded packet in or out of the bridge, except agent → sidecar on the sidecar ports
 *   and the sidecar's answers (bridged traffic crosses FORWARD when br_netfilter is loaded, as
 *   Docker loads it; without it, bridged frames never reach this hook and need no rule).
 * A drop in any base chain is final whatever other tables say, so Docker's accept rules cannot
 * re-open what this table closes. Pure.
 */
export function firewallRuleset(o: { table: string; bridge: string; sidecar: string; agent: string; ports: readonly number[] }): string {
  const ports = [...new Set(o.ports)].filter((p) => Number.isInteger(p) && p > 0 && p < 65536).sort((a, b) => a - b);
  const allow = ports.length > 0
    ? `    iifname "${o.bridge}" oifname "${o.bridge}" ip saddr ${o.agent} ip daddr ${o.sidecar} tcp dport { ${ports.join(', ')} } accept\n` +
      `    iifname "${o.bridge}" oifname "${o.bridge}" ip saddr ${o.sidecar} ip daddr ${o.agent} tcp sport { ${ports.join(', ')} } accept\n`
    : '';
  return (
    `table inet ${o.table} {\n` +
    `  chain input {\n    type filter hook input priority -10; policy accept;\n` +
    `    iifname "${o.bridge}" drop\n  }\n` +
    `  chain forward {\n    type filter hook forward priority -10; policy accept;\n` +
    allow +
    `    iifname "${o.bridge}" drop\n    oifname "${o.bridge}" drop\n  }\n` +
    `}\n`
  );
}
