/** Layer entries: one file system object as a layer tarball declares it, with its path already made safe. */
export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface LayerEntry {
  /** Normalised path without a leading slash, `..` or `.` segments: `usr/bin/xmrig`. */
  path: string;
  type: EntryType;
  /** Size the header declares, in bytes. */
  size: number;
  /** Unix permission bits (`0o755`). */
  mode: number;
  /** Target of a symlink or hard link, as written in the header. */
  linkTarget?: string;
}

/** What a file analyzer sees: the entry, its content (whole, or a prefix when `truncated`) and the hash of the whole. */
export interface FileContent {
  entry: LayerEntry;
  bytes: Buffer;
  truncated: boolean;
  sha256: string;
  /** Digest (diff_id) of the layer the file came from, or a source-specific id for directories. */
  layer: string;
}

export function isExecutableMode(mode: number): boolean {
  return (mode & 0o111) !== 0;
}
