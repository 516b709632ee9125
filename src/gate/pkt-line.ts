/** git pkt-line helpers (pure). */
export function pktLine(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  const len = body.length + 4;
  if (len > 65520) throw new RangeError('pkt-line payload too long');
  return Buffer.concat([Buffer.from(len.toString(16).padStart(4, '0'), 'ascii'), body]);
}

/** One `ERR <text>` pkt-line: git prints `fatal: remote error: <text>` and stops. */
export function errAdvertisement(text: string): Buffer {
  return pktLine(`ERR ${text.replace(/[\r\n]+/g, ' ')}\n`);
}
