// The console's only way to the server: /api/v1, with the session cookie (sent by the browser, never
// readable here) and the CSRF header every change needs. A 401 means the session ended: back to login.

export const CSRF_HEADER = 'x-aps-console';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function toLogin(): void {
  window.location.assign('/ui/login');
}

async function failure(r: Response): Promise<ApiError> {
  let code = 'error';
  let message = `${r.status} ${r.statusText}`;
  try {
    const body = (await r.json()) as { error?: string; message?: string };
    code = body.error ?? code;
    message = body.message ?? message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(r.status, code, message);
}

export async function request(path: string, init: RequestInit = {}): Promise<Response> {
  const r = await fetch(`/api/v1${path}`, {
    ...init,
    credentials: 'same-origin',
    headers: {
      [CSRF_HEADER]: '1',
      ...(init.body && typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });
  if (r.status === 401) {
    toLogin();
    throw new ApiError(401, 'unauthorized', 'the session has ended');
  }
  if (!r.ok) throw await failure(r);
  return r;
}

export async function get<T>(path: string): Promise<T> {
  return (await (await request(path)).json()) as T;
}

export async function send<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
  const r = await request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return r.status === 204 ? undefined : ((await r.json()) as T);
}

export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * A multipart upload with progress: XMLHttpRequest, because fetch() reports no upload progress. The browser
 * streams the file from disk and the server streams it to disk, so a multi-GB firmware never sits in memory.
 */
export function upload(
  path: string,
  form: FormData,
  onProgress: (sent: number, total: number) => void,
): { done: Promise<unknown>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<unknown>((resolve, reject) => {
    xhr.open('POST', `/api/v1${path}`);
    xhr.setRequestHeader(CSRF_HEADER, '1');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e): void => onProgress(e.loaded, e.total);
    xhr.onload = (): void => {
      if (xhr.status === 401) toLogin();
      const body = xhr.response as { error?: string; message?: string } | null;
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body?.error ?? 'error', body?.message ?? `upload failed (${xhr.status})`));
    };
    xhr.onerror = (): void => reject(new ApiError(0, 'network', 'the upload was cut off'));
    xhr.onabort = (): void => reject(new ApiError(0, 'aborted', 'upload cancelled'));
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

// --- what the API answers (the fields the console reads) ---

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface EventFault {
  code: string;
  message: string;
}

export interface DeviceEvent {
  id?: number;
  at: string;
  deviceId: string | null;
  adapter: string;
  file: string;
  status: number;
  bytes: number;
  ip: string | null;
  detail: string | null;
  fault: EventFault | null;
  artifactId: number | null;
}

export interface DeviceView {
  id: string;
  profile: string;
  adapter: string;
  model: string | null;
  mac: string | null;
  group: string | null;
  status: 'active' | 'pending';
  hasPassword: boolean;
  vars: Record<string, string>;
  pins: Record<string, number>;
  targets: Record<string, { id: number; filename: string; version: string; serial: number | null; md5: string }>;
  notes: string[];
  state: { lastSeen: string | null; lastIp: string | null; lastUa: string | null; reported: Record<string, unknown> } | null;
  firmware: { version: string; basis: 'reported' | 'fetched' } | null;
  lastEvent: { at: string; file: string; status: number; fault: EventFault | null } | null;
  stale: boolean;
  canNotify: boolean;
  setup: { url: string; credentials?: { username: string; password: string }; hints: string[] };
  /** Its maintenance window (null: changes reach it at once) and the slots it gets when the window opens. */
  window: {
    description: string;
    open: boolean;
    closesAt: string | null;
    nextStart: string | null;
    source: 'profile' | 'group';
    pending: string[];
  } | null;
}

export interface FleetVersionRow {
  profile: string;
  version: string;
  basis: 'reported' | 'fetched' | null;
  devices: number;
  lastSeen: string | null;
}

export interface Fleet {
  versions: FleetVersionRow[];
  profiles: Array<{ profile: string; active: number; pending: number; onTarget: number; behind: number; unknown: number }>;
  pending: Array<{ id: string; profile: string; model: string | null; lastSeen: string | null }>;
}

export interface Profile {
  name: string;
  adapter: string;
  description?: string;
}

export interface Artifact {
  id: number;
  profile: string;
  kind: string;
  role: string | null;
  version: string;
  serial: number | null;
  filename: string;
  size: number;
  md5: string;
  deviceId: string | null;
  origin: string;
  createdAt: string;
  /** target: some device gets it now; candidate: waits for a rollout or a pin (release: manual); retired. */
  status?: 'target' | 'candidate' | 'retired';
}

export interface PreviewFile {
  name: string;
  contentType: string;
  text?: string;
  artifactId?: number;
  md5: string;
  size: number;
  serial?: number;
}

export interface Backup {
  seq: number;
  at: string;
  size: number;
  sha256: string;
}

export type RolloutState = 'running' | 'paused' | 'halted' | 'completed' | 'aborted';

export interface Rollout {
  id: number;
  artifactId: number;
  profile: string;
  slot: string;
  groups: string[];
  stages: number[];
  /** Index into stages of the stage now running. */
  stage: number;
  percent: number;
  maxFailures: string;
  timeoutSeconds: number;
  /** The same as `6h`, `30m`, `45s`. */
  timeout: string;
  autoPromote: boolean;
  state: RolloutState;
  /** Why it halted (the devices and their faults), was aborted or completed. */
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  counts: RolloutCounts;
  /** The counts of each stage begun so far (index = stage). */
  byStage: RolloutCounts[];
}

export interface RolloutCounts {
  devices: number;
  pending: number;
  succeeded: number;
  failed: number;
}

export interface RolloutDevice {
  deviceId: string;
  /** The stage index that selected it. */
  stage: number;
  previousId: number | null;
  assignedAt: string;
  status: 'pending' | 'succeeded' | 'failed';
  detail: string | null;
  updatedAt: string;
}

export interface RolloutDetail extends Rollout {
  devices: RolloutDevice[];
}
