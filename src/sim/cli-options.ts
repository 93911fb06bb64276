import { readFileSync } from 'node:fs';
import type { Command } from 'commander';

/** The TLS options every simulator offers, so a lab can use the self-signed certificate or its own CA. */
export function addTlsOptions(cmd: Command): Command {
  return cmd
    .option('--insecure', 'accept a self-signed HTTPS certificate')
    .option('--ca <file>', 'trust this CA/certificate PEM for HTTPS');
}

export function tlsFromOptions(o: { insecure?: boolean; ca?: string }): { insecure: boolean; ca?: string } {
  return { insecure: !!o.insecure, ca: o.ca ? readFileSync(o.ca, 'utf8') : undefined };
}

/** `--cycles`-style counts: a positive whole number, or a clear error. */
export function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} ${value} is not a positive whole number`);
  return n;
}
