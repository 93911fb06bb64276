// Small HTTP helpers of the ACS endpoint: a bounded body reader and the typed error for CPE faults.
import { ApsError } from '../../src/adapter-api.ts';
import type { Request } from 'express';
import { CwmpParseError } from './soap.ts';

/** The raw request body, refused past `maxBytes` (the decoded size is bounded again by decodeBody). */
export function readBody(req: Request, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > maxBytes) {
        failed = true;
        reject(new CwmpParseError('too-large', `body exceeds ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    let ended = false;
    req.on('end', () => {
      ended = true;
      if (!failed) resolve(Buffer.concat(chunks));
    });
    // A client that goes away mid-body is normal traffic, not our failure: a ClientLeft, never a stack.
    req.on('error', (e) => !failed && ((failed = true), reject(new ClientLeft(e.message))));
    req.on('close', () => !ended && !failed && ((failed = true), reject(new ClientLeft('connection closed mid-body'))));
  });
}

/** The client closed the connection before its request body was complete. */
export class ClientLeft extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientLeft';
  }
}

/** A CWMP Fault the CPE sent (9000–9899, TR-069 Table A.6): logged as a typed error, stored as a value. */
export class CpeFaultError extends ApsError {
  readonly faultCode: number;
  readonly faultString: string;
  readonly commandKey: string | undefined;
  constructor(faultCode: number, faultString: string, commandKey: string | undefined) {
    super('device_fault', `CPE fault ${faultCode}`);
    this.name = 'CpeFaultError';
    this.faultCode = faultCode;
    this.faultString = faultString.slice(0, 256);
    this.commandKey = commandKey;
  }
}
