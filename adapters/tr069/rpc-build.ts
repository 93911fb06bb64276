// Message → xml2js builder object for one RPC element. Every string goes through `str`, which enforces the
// cwmp-1-2.xsd length limits and XML 1.0 §2.2 characters, naming the field (never its value) on failure.
// Object keys are fixed element names from this file, never data, so insertion order is document order.
import { CwmpBuildError } from './cwmp-types.ts';
import type { CwmpMessage, DownloadArgs, FaultStruct } from './cwmp-types.ts';

export type XmlNode = string | { [key: string]: XmlNode | XmlNode[] | Record<string, string> };

const UINT_MAX = 4294967295;
// Characters outside XML 1.0 §2.2 Char: C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/FFFF.
const BAD_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export function str(field: string, value: string, maxLength?: number): string {
  if (typeof value !== 'string') throw new CwmpBuildError('invalid-value', field, `${field} must be a string`);
  if (BAD_XML_CHAR.test(value)) {
    throw new CwmpBuildError('invalid-char', field, `${field} holds a character XML cannot carry`);
  }
  if (maxLength !== undefined && [...value].length > maxLength) {
    throw new CwmpBuildError('too-long', field, `${field} exceeds ${maxLength} characters`);
  }
  return value;
}

function uint(field: string, value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > UINT_MAX) {
    throw new CwmpBuildError('invalid-value', field, `${field} must be an unsignedInt`);
  }
  return String(value);
}

function arrayType(type: string, n: number): Record<string, string> {
  return { 'soap-enc:arrayType': `${type}[${n}]` };
}

// Download, TR-069 §A.3.2.8: children in exactly this order (xs:sequence), limits from cwmp-1-2.xsd.
function download(d: DownloadArgs): XmlNode {
  if (d.url === '') throw new CwmpBuildError('invalid-value', 'Download.URL', 'Download.URL must not be empty');
  return {
    CommandKey: str('Download.CommandKey', d.commandKey, 32),
    FileType: str('Download.FileType', d.fileType, 64),
    URL: str('Download.URL', d.url, 256),
    Username: str('Download.Username', d.username, 256),
    Password: str('Download.Password', d.password, 256),
    FileSize: uint('Download.FileSize', d.fileSize),
    TargetFileName: str('Download.TargetFileName', d.targetFileName, 256),
    DelaySeconds: uint('Download.DelaySeconds', d.delaySeconds),
    SuccessURL: str('Download.SuccessURL', d.successUrl, 256),
    FailureURL: str('Download.FailureURL', d.failureUrl, 256),
  };
}

function faultStruct(prefix: string, f: FaultStruct): XmlNode {
  return {
    FaultCode: uint(`${prefix}.FaultCode`, f.faultCode),
    FaultString: str(`${prefix}.FaultString`, f.faultString, 256),
  };
}

/** [element name, content] for the body of one message. */
export function rpcNode(m: CwmpMessage): [string, XmlNode] {
  switch (m.kind) {
    case 'Inform': {
      if (m.events.length > 64) throw new CwmpBuildError('too-long', 'Inform.Event', 'at most 64 events');
      const d = m.deviceId;
      return [
        'cwmp:Inform',
        {
          DeviceId: {
            Manufacturer: str('DeviceId.Manufacturer', d.manufacturer, 64),
            OUI: str('DeviceId.OUI', d.oui, 6),
            ProductClass: str('DeviceId.ProductClass', d.productClass, 64),
            SerialNumber: str('DeviceId.SerialNumber', d.serialNumber, 64),
          },
          Event: {
            $: arrayType('cwmp:EventStruct', m.events.length),
            EventStruct: m.events.map((e) => ({
              EventCode: str('EventStruct.EventCode', e.eventCode, 64),
              CommandKey: str('EventStruct.CommandKey', e.commandKey, 32),
            })),
          },
          MaxEnvelopes: uint('Inform.MaxEnvelopes', m.maxEnvelopes),
          CurrentTime: str('Inform.CurrentTime', m.currentTime),
          RetryCount: uint('Inform.RetryCount', m.retryCount),
          ParameterList: {
            $: arrayType('cwmp:ParameterValueStruct', m.parameterList.length),
            ParameterValueStruct: m.parameterList.map((p) => ({
              Name: str('ParameterValueStruct.Name', p.name, 256),
              Value: { $: { 'xsi:type': str('ParameterValueStruct.type', p.type) }, _: str('ParameterValueStruct.Value', p.value) },
            })),
          },
        },
      ];
    }
    case 'InformResponse':
      return ['cwmp:InformResponse', { MaxEnvelopes: uint('InformResponse.MaxEnvelopes', m.maxEnvelopes) }];
    case 'Download': {
      const { kind: _kind, ...args } = m;
      return ['cwmp:Download', download(args)];
    }
    case 'DownloadResponse':
      return [
        'cwmp:DownloadResponse',
        {
          Status: uint('DownloadResponse.Status', m.status),
          StartTime: str('DownloadResponse.StartTime', m.startTime),
          CompleteTime: str('DownloadResponse.CompleteTime', m.completeTime),
        },
      ];
    case 'TransferComplete':
      return [
        'cwmp:TransferComplete',
        {
          CommandKey: str('TransferComplete.CommandKey', m.commandKey, 32),
          FaultStruct: faultStruct('TransferComplete.FaultStruct', m.fault),
          StartTime: str('TransferComplete.StartTime', m.startTime),
          CompleteTime: str('TransferComplete.CompleteTime', m.completeTime),
        },
      ];
    case 'TransferCompleteResponse':
    case 'GetRPCMethods':
      return [`cwmp:${m.kind}`, ''];
    case 'GetRPCMethodsResponse':
      return [
        'cwmp:GetRPCMethodsResponse',
        {
          MethodList: {
            $: arrayType('xsd:string', m.methods.length),
            string: m.methods.map((s) => str('MethodList.string', s, 64)),
          },
        },
      ];
    case 'Fault': {
      // SOAP 1.1 §4.4 Fault with the CWMP Fault in detail (TR-069 §A.2.2.2 / §A.5).
      const node: { [key: string]: XmlNode } = {
        faultcode: str('Fault.faultcode', m.faultcode),
        faultstring: str('Fault.faultstring', m.faultstring),
      };
      if (m.cwmp) {
        const inner = faultStruct('Fault.detail', m.cwmp) as { [key: string]: XmlNode | XmlNode[] };
        if (m.cwmp.setParameterValuesFaults) {
          inner.SetParameterValuesFault = m.cwmp.setParameterValuesFaults.map((s) => ({
            ParameterName: str('SetParameterValuesFault.ParameterName', s.parameterName, 256),
            ...(faultStruct('SetParameterValuesFault', s) as object),
          }));
        }
        node.detail = { 'cwmp:Fault': inner };
      }
      return ['soap-env:Fault', node];
    }
  }
}
