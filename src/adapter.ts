import type { Command } from 'commander';
import type { Router } from 'express';
import type { ZodType } from 'zod';
import type { ArtifactSlot } from './catalog/slots.ts';
import type { ApsConfig } from './config.ts';
import type { AdapterServices, CoreServices } from './core.ts';
import type { KvState } from './kv-state.ts';
import type { Logger } from './log.ts';
import type { DeviceRecord } from './store/index.ts';
import type { FtpMount } from './transport/ftp-mount.ts';

export type { ArtifactSlot };

/** What to enter on a device so it reaches APS: printed by `aps device show ID --json` as `setup`. */
export interface DeviceSetup {
  /** The provisioning URL, with the vendor's own placeholders left in. */
  url: string;
  /** Credentials the device must be given (the password itself is never echoed). */
  credentials?: { username: string; password: string };
  /** Further settings, e.g. DHCP options, in the vendor's words. */
  hints: string[];
  [extra: string]: unknown;
}

export interface PreviewFile {
  name: string;
  contentType: string;
  /** Present for rendered (text) files; artifacts are described by id and digest instead. */
  text?: string;
  artifactId?: number;
  md5: string;
  size: number;
  serial?: number;
  lastModified?: string;
}

export interface NotifyResult {
  ok: boolean;
  /** One line for the operator: "200 OK", "401 challenge", "timeout after 32 s"… */
  summary: string;
}

/** Everything an adapter may use; adapters never reach around it (no SQL, no disk). */
export interface AdapterContext<C = unknown> extends Omit<CoreServices, 'config'> {
  name: string;
  /** The adapter's own parsed section of the configuration. */
  config: C;
  /** The server's configuration (ports, data folder…), read-only. */
  aps: ApsConfig;
  /** Mounted under /<name> on HTTP and HTTPS. */
  router: Router;
  ftp: FtpMount;
  log: Logger;
  /** The adapter's own persisted key-value state (protocol sessions, pending downloads). */
  state: KvState;
}

export interface Adapter<C = unknown> {
  /** Folder, config key, route prefix and log tag. */
  name: string;
  description: string;
  configSchema: ZodType<C>;
  /** Validates a profile's `settings` section. */
  profileSchema: ZodType;
  /** 'secret' when the protocol needs the clear password (HTTP Digest, credentials written into files). */
  credentials: 'hash' | 'secret';
  /**
   * The artifact kinds and roles this adapter serves. A profile of this adapter accepts only these (an
   * artifact nothing would ever fetch is refused when added); omitted, every kind is accepted.
   */
  slots?: readonly ArtifactSlot[];
  register(ctx: AdapterContext<C>): void | Promise<void>;
  setup(device: DeviceRecord, core: AdapterServices, config: C): DeviceSetup;
  preview(device: DeviceRecord, core: AdapterServices, config: C): PreviewFile[];
  /** Adds the options and action of `aps simulate <name>`. */
  simulator?(cmd: Command): void;
  /**
   * Adds the adapter's own subcommands under `aps <name>` (e.g. importing a vendor file as a profile);
   * the CLI stays vendor-blind. `adapters` is the full list, for opening the core with withCore().
   */
  commands?(cmd: Command, adapters: readonly Adapter[]): void;
  /** Makes the device check now (SIP NOTIFY, TR-069 connection request…). */
  notify?(device: DeviceRecord, core: AdapterServices, config: C): Promise<NotifyResult>;
  close?(): Promise<void>;
}

/** Erases the config type parameter for the registry list, keeping each adapter's own typing inside it. */
export function defineAdapter<C>(a: Adapter<C>): Adapter<unknown> {
  return a as unknown as Adapter<unknown>;
}
