// Readers for the bodies of the CWMP RPCs this codec knows (TR-069 Annex A.3, cwmp-1-2.xsd). Children are
// unqualified (elementFormDefault="unqualified") and matched by local name; order is not enforced on
// input (real CPEs vary), absent optional fields take the schema's neutral value.
import { CwmpParseError } from './cwmp-types.ts';
import type {
  CwmpMessage,
  CwmpNamespace,
  DeviceIdStruct,
  EventStruct,
  FaultMessage,
  FaultStruct,
  ParameterValue,
  SetParameterValuesFault,
} from './cwmp-types.ts';
import { attr, child, childrenNamed } from './xml-tree.ts';
import type { XmlElement } from './xml-tree.ts';

export interface RpcContext {
  ns?: CwmpNamespace;
  id?: string;
  method: string;
}

const UINT_MAX = 4294967295;

function fail(ctx: RpcContext, what: string): never {
  throw new CwmpParseError('invalid-message', `${ctx.method}: ${what}`, ctx);
}

function text(el: XmlElement, name: string): string {
  return child(el, name)?.text ?? '';
}

/** xsd:unsignedInt child; `dflt` when absent, an error when present but not a number. */
function uint(el: XmlElement, name: string, dflt: number, ctx: RpcContext): number {
  const c = child(el, name);
  if (c === undefined) return dflt;
  const t = c.text.trim();
  if (!/^\d{1,10}$/.test(t) || Number(t) > UINT_MAX) fail(ctx, `${name} is not an unsignedInt`);
  return Number(t);
}

/** xsd:boolean text: "1"/"true" or "0"/"false" (XML Schema §3.2.2), case-insensitive, trimmed. */
export function parseBoolean(t: string): boolean | undefined {
  const v = t.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false' || v === '') return false;
  return undefined;
}

function deviceId(el: XmlElement | undefined, ctx: RpcContext): DeviceIdStruct {
  if (el === undefined) fail(ctx, 'DeviceId is missing');
  // Identifiers are trimmed: surrounding whitespace from pretty-printers must not change a device's key.
  return {
    manufacturer: text(el, 'Manufacturer').trim(),
    oui: text(el, 'OUI').trim(),
    productClass: text(el, 'ProductClass').trim(),
    serialNumber: text(el, 'SerialNumber').trim(),
  };
}

function events(el: XmlElement | undefined): EventStruct[] {
  if (el === undefined) return [];
  return childrenNamed(el, 'EventStruct').map((e) => ({
    eventCode: text(e, 'EventCode').trim(),
    commandKey: text(e, 'CommandKey'),
  }));
}

function parameterList(el: XmlElement | undefined): ParameterValue[] {
  if (el === undefined) return [];
  return childrenNamed(el, 'ParameterValueStruct').map((p) => {
    const v = child(p, 'Value');
    return { name: text(p, 'Name').trim(), value: v?.text ?? '', type: (v && attr(v, 'type')) || 'xsd:string' };
  });
}

function faultStruct(el: XmlElement | undefined, ctx: RpcContext): FaultStruct {
  if (el === undefined) return { faultCode: 0, faultString: '' };
  return { faultCode: uint(el, 'FaultCode', 0, ctx), faultString: text(el, 'FaultString') };
}

function fault(el: XmlElement, ctx: RpcContext): FaultMessage {
  const code = text(el, 'faultcode').trim();
  const msg: FaultMessage = {
    kind: 'Fault',
    faultcode: code.slice(code.lastIndexOf(':') + 1), // QName: "soap:Client" → "Client"
    faultstring: text(el, 'faultstring'),
  };
  const detail = child(el, 'detail');
  const cwmpFault = detail && child(detail, 'Fault');
  if (cwmpFault) {
    const spv: SetParameterValuesFault[] = childrenNamed(cwmpFault, 'SetParameterValuesFault').map((s) => ({
      parameterName: text(s, 'ParameterName').trim(),
      ...faultStruct(s, ctx),
    }));
    msg.cwmp = { ...faultStruct(cwmpFault, ctx), ...(spv.length > 0 ? { setParameterValuesFaults: spv } : {}) };
  }
  return msg;
}

/** Read one RPC element. Returns undefined for a method this codec does not know. */
export function readRpc(el: XmlElement, ctx: RpcContext): CwmpMessage | undefined {
  switch (el.local) {
    case 'Inform':
      return {
        kind: 'Inform',
        deviceId: deviceId(child(el, 'DeviceId'), ctx),
        events: events(child(el, 'Event')),
        maxEnvelopes: uint(el, 'MaxEnvelopes', 1, ctx),
        currentTime: text(el, 'CurrentTime').trim(),
        retryCount: uint(el, 'RetryCount', 0, ctx),
        parameterList: parameterList(child(el, 'ParameterList')),
      };
    case 'InformResponse':
      return { kind: 'InformResponse', maxEnvelopes: uint(el, 'MaxEnvelopes', 1, ctx) };
    case 'Download':
      return {
        kind: 'Download',
        commandKey: text(el, 'CommandKey'),
        fileType: text(el, 'FileType').trim(),
        url: text(el, 'URL').trim(),
        username: text(el, 'Username'),
        password: text(el, 'Password'),
        fileSize: uint(el, 'FileSize', 0, ctx),
        targetFileName: text(el, 'TargetFileName'),
        delaySeconds: uint(el, 'DelaySeconds', 0, ctx),
        successUrl: text(el, 'SuccessURL').trim(),
        failureUrl: text(el, 'FailureURL').trim(),
      };
    case 'DownloadResponse': {
      const status = uint(el, 'Status', -1, ctx);
      if (status !== 0 && status !== 1) fail(ctx, 'Status must be 0 or 1');
      return {
        kind: 'DownloadResponse',
        status,
        startTime: text(el, 'StartTime').trim(),
        completeTime: text(el, 'CompleteTime').trim(),
      };
    }
    case 'TransferComplete':
      return {
        kind: 'TransferComplete',
        commandKey: text(el, 'CommandKey'),
        fault: faultStruct(child(el, 'FaultStruct'), ctx),
        startTime: text(el, 'StartTime').trim(),
        completeTime: text(el, 'CompleteTime').trim(),
      };
    case 'TransferCompleteResponse':
      return { kind: 'TransferCompleteResponse' };
    case 'GetRPCMethods':
      return { kind: 'GetRPCMethods' };
    case 'GetRPCMethodsResponse': {
      const list = child(el, 'MethodList');
      const methods = list ? childrenNamed(list, 'string').map((s) => s.text.trim()) : [];
      return { kind: 'GetRPCMethodsResponse', methods };
    }
    case 'Fault':
      return fault(el, ctx);
    default:
      return undefined;
  }
}
