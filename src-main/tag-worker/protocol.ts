// Messages between the main thread and the tag worker.

export interface TagWorkerData {
  /** Where embedded and folder covers are cached as <sha1>.<ext>. */
  coversDir: string;
}

export interface TagRequest {
  id: number;
  files: string[];
}

export interface TagResult {
  ok: boolean;
  title?: string;
  artist?: string;
  album?: string;
  albumArtist?: string;
  trackNo?: number;
  discNo?: number;
  durationMs?: number;
  /** The cover, as a file in the cover cache. */
  coverFile?: string;
  error?: string;
}

export interface TagReply {
  id: number;
  results: TagResult[];
}
