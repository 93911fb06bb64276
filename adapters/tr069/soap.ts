// Public face of the CWMP SOAP codec: import from here, not from the parts.
export {
  CWMP_NAMESPACES,
  CwmpBuildError,
  CwmpParseError,
  SOAP_ENC_NS,
  SOAP_ENV_NS,
  XSD_NS,
  XSI_NS,
  isCwmpNamespace,
} from './cwmp-types.ts';
export type {
  CwmpBuildErrorCode,
  CwmpHeader,
  CwmpKind,
  CwmpMessage,
  CwmpNamespace,
  CwmpParseErrorCode,
  DeviceIdStruct,
  DownloadArgs,
  DownloadResponseMessage,
  EventStruct,
  FaultMessage,
  FaultStruct,
  InformMessage,
  ParameterValue,
  ParsedCwmp,
  SetParameterValuesFault,
  TransferCompleteMessage,
} from './cwmp-types.ts';
export { DEFAULT_MAX_BODY_BYTES, parseCwmp } from './soap-parse.ts';
export type { ParseOptions } from './soap-parse.ts';
export { ACS_FAULTS, acsFault, buildCwmp, replyHeader } from './soap-build.ts';
export type { AcsFaultCode, EnvelopeHeader } from './soap-build.ts';
export { decodeBody } from './body.ts';
export type { DecodeOptions } from './body.ts';
