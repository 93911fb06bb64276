// What the adapter needs of the core backup store (BRURI backups, backup.ts).

export interface BackupInfo {
  seq: number;
  name: string;
  size: number;
}

/**
 * The core backup store as announced for the adapter context (`backups`, built on branch `backups`):
 * only the calls this adapter makes. Until the core offers it, BRURI is neither written nor served.
 */
export interface BackupPort {
  put(
    body: NodeJS.ReadableStream,
    input: { deviceId: string; name: string; slot?: number | null; maxBytes?: number; remote?: string | null },
  ): Promise<{ backup: BackupInfo; created: boolean }>;
  list(deviceId: string): BackupInfo[];
  read(deviceId: string, seq: number): Buffer;
}

/** The core backup store, when this core has one. */
export function backupsOf(services: object): BackupPort | undefined {
  const b = (services as { backups?: BackupPort }).backups;
  return b && typeof b.put === 'function' ? b : undefined;
}
