/**
 * How an adapter offers files over FTP. The core runs one ftp-srv; on login it asks each adapter's mount
 * for a read-only view, so a device only ever sees its own tree and paths never touch the real disk.
 */
export interface FtpEntry {
  name: string;
  size: number;
  mtime: Date;
  isDirectory: boolean;
  /** Where the bytes come from (rendered bytes, or a blob path to stream). */
  body?: { bytes: Buffer } | { path: string };
}

export interface FtpView {
  /** Entries of a folder given as a normalized absolute POSIX path ("/", "/fw"); undefined when absent. */
  list(dir: string): FtpEntry[] | undefined;
  /** One file by normalized absolute path; undefined when absent. */
  stat(path: string): FtpEntry | undefined;
  /** Called when a file was sent, for the event log. */
  onDownload?(path: string, bytes: number): void;
}

export interface FtpLogin {
  username: string;
  password: string;
  ip: string;
}

/**
 * Resolves a login to a view, or undefined to refuse it. A password is checked with `ctx.access.login()`,
 * never compared directly: that counts failures per device and address (back-off, locks) like HTTP.
 */
export type FtpResolver = (login: FtpLogin) => FtpView | undefined | Promise<FtpView | undefined>;

export interface FtpMount {
  /** Registers how this adapter resolves a login (or anonymous, username "anonymous") to a view. */
  provide(resolver: FtpResolver): void;
  /** Whether the FTP server accepts anonymous logins at all (`ftp.anonymous`). */
  readonly anonymous: boolean;
}
