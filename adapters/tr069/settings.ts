// The adapter's own configuration (section `adapters.tr069` of aps.yaml) and the `settings` of its profiles.
import { z } from 'zod';

export const configSchema = z
  .object({
    /** What to do with an Inform from a CPE no device matches: refuse it (401), or register it as pending. */
    unknownCpe: z.enum(['refuse', 'pending']).default('refuse'),
    /** Profile given to CPEs registered as pending; default: the first profile of this adapter. */
    pendingProfile: z.string().optional(),
    /** At most this many CPEs waiting as pending at a time; further unknown CPEs are refused (401) and logged. */
    maxPending: z.number().int().min(0).default(1000),
    /**
     * How the file server knows a Download's fetch is the CPE's: `credentials` (the Download's own user
     * and password, HTTP Digest; the secure default) or `token` (an unguessable path segment of that one
     * Download's URL, for CPEs that ignore the Download's credentials, e.g. genieacs-sim). Logged at start.
     */
    fileAuth: z.enum(['credentials', 'token']).default('credentials'),
    /**
     * Accept HTTP Basic over plain HTTP (the CPE's password in clear on the wire): for closed lab networks
     * with CPEs that speak only Basic. Off by default: Basic only over HTTPS. Logged at start.
     */
    allowBasicOverHttp: z.boolean().default(false),
    /** HTTP Digest realm for the ACS URL and the file server. */
    realm: z.string().min(1).default('APS TR-069'),
    /** A CWMP session (cookie) lives this long after its last message. */
    sessionTimeoutSeconds: z.number().int().min(10).default(300),
    /** A Download whose TransferComplete has not arrived by then becomes a fault. */
    downloadTimeoutSeconds: z.number().int().min(10).default(3600),
    /**
     * How often overdue downloads (and Downloads whose session ended unanswered) become faults, whether or
     * not the CPE comes back. The next Inform checks too; this is for the CPE that never does.
     */
    sweepIntervalSeconds: z.number().positive().default(60),
    /** Back-off after a failed download: base * 2^(failures-1), capped at max. */
    retryBaseSeconds: z.number().int().min(0).default(60),
    retryMaxSeconds: z.number().int().min(1).default(86_400),
    /** Shown in `setup`: the PeriodicInformInterval to configure on the CPE. */
    periodicInformInterval: z.number().int().min(30).default(3600),
    /** Connection request: give up after this long. */
    connectionRequestTimeoutSeconds: z.number().int().min(1).default(10),
    /** Largest CWMP body accepted, before and after Content-Encoding. */
    maxBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024),
    /**
     * Largest body (before and after Content-Encoding) of a request with neither a session nor an
     * Authorization header; a larger one gets the 401 challenge unread, and the CPE's authenticated retry
     * may use maxBodyBytes. Keeps what an anonymous client can make the server parse small.
     */
    maxUnauthenticatedBodyBytes: z
      .number()
      .int()
      .min(1024)
      .default(64 * 1024),
  })
  .strict();
export type Tr069Config = z.infer<typeof configSchema>;

export const profileSchema = z
  .object({
    /** Download FileType for the config (TR-069 A.3.2.8: "3 Vendor Configuration File"). */
    configFileType: z.string().min(1).max(64).default('3 Vendor Configuration File'),
    /** The name the config is served under and sent as TargetFileName. */
    configFileName: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/)
      .default('config.ini'),
    configContentType: z.string().default('text/plain; charset=utf-8'),
    /** TargetFileName for firmware; empty lets the CPE choose (the artifact's name is in the URL anyway). */
    firmwareTargetFileName: z.string().max(256).default(''),
  })
  .strict();
export type Tr069Settings = z.infer<typeof profileSchema>;
