// One load of a plugin library: a "generation". Loading copies the file to a shadow path (so the
// original can be replaced while loaded), calls the entry with a host table, validates the module
// and decodes its capability descriptors once. Unloading calls the module's shutdown off the
// event loop, then dlcloses the copy.
import fs from 'node:fs';
import path from 'node:path';
import koffi, { type LibraryHandle } from 'koffi';
import {
  CapabilityKind,
  type CapabilityKindCode,
  fnOrNull,
  type NativeFn,
  type Pointer,
  Proto,
  readStr,
  type RawStr,
  ST_METADATA_MAX_BYTES,
  ST_PLUGIN_API_VERSION,
  ST_PLUGIN_ENTRY_SYMBOL,
  StCapability,
  StExtScore,
  StHost,
  StModule,
} from './abi.js';
import { PluginLoadError, PluginResultTooLarge } from './errors.js';
import { checkLibraryFile } from './library-file.js';
import { knownPluginId, migrateDataFolder, probeDir, rememberPluginId } from './data-folders.js';
import { crashStep, guardLibrary, libraryFingerprint, unguardLibrary } from './crash-guard.js';
import { registerLogSink, type LogSink } from './host-callbacks.js';
import { stallMonitor } from '../diagnostics/stall-monitor.js';
import { whenLoaderIdle } from './dlopen-warmer.js';

export interface PluginMetadata {
  id: string;
  name: string;
  version: string;
  abiVersion: number;
  description?: string;
  author?: string;
  homepage?: string;
}

export type CapabilityKindName = 'decoder' | 'dsp' | 'source' | 'lyrics' | 'output';

export const kindNames: Record<CapabilityKindCode, CapabilityKindName> = {
  [CapabilityKind.DECODER]: 'decoder',
  [CapabilityKind.DSP]: 'dsp',
  [CapabilityKind.SOURCE_CATALOG]: 'source',
  [CapabilityKind.LYRICS_PROVIDER]: 'lyrics',
  [CapabilityKind.OUTPUT_SINK]: 'output',
};

export const kindCodes: Record<CapabilityKindName, CapabilityKindCode> = {
  decoder: CapabilityKind.DECODER,
  dsp: CapabilityKind.DSP,
  source: CapabilityKind.SOURCE_CATALOG,
  lyrics: CapabilityKind.LYRICS_PROVIDER,
  output: CapabilityKind.OUTPUT_SINK,
};

export interface CapabilityInfo {
  kind: CapabilityKindName;
  typeId: string;
  displayName: string;
  configSchema: unknown;
  defaultConfig: unknown;
  /** Decoders only: extension -> score. */
  extensions: { ext: string; score: number }[];
}

export interface LoadOptions {
  /** Where shadow copies are made. */
  shadowDir: string;
  /** The plugin's own data folder root; each plugin gets `<dataRoot>/<plugin id>`. */
  dataRoot: string;
  /** Generation number (lease_id) given to this load. */
  leaseId: number;
  /** A shadow copy made ahead, off the event loop (prepareShadowCopy): the load takes it instead
   * of copying on the loop (taken once; a second pass of the same load copies again). */
  prepared?: { shadow: string | null };
  log?: (pluginPath: string, level: number, message: string) => void;
}

const ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;

function parseJsonField(text: string, what: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PluginLoadError('bad_metadata', `${what} is not valid JSON: ${(err as Error).message}`, file);
  }
}

function parseMetadata(text: string, file: string): PluginMetadata {
  const raw = parseJsonField(text, 'metadata_json', file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new PluginLoadError('bad_metadata', 'metadata_json is not a JSON object', file);
  }
  const m = raw as Record<string, unknown>;
  const missing = ['id', 'name', 'version'].filter((k) => typeof m[k] !== 'string' || m[k] === '');
  if (typeof m.abi_version !== 'number') missing.push('abi_version');
  if (missing.length > 0) {
    throw new PluginLoadError('bad_metadata', `metadata_json lacks required fields: ${missing.join(', ')}`, file);
  }
  if (!ID_PATTERN.test(m.id as string)) {
    throw new PluginLoadError('bad_metadata', `plugin id "${String(m.id)}" must match ${ID_PATTERN}`, file);
  }
  if (m.abi_version !== ST_PLUGIN_API_VERSION) {
    throw new PluginLoadError(
      'wrong_abi',
      `metadata declares ABI ${String(m.abi_version)}, this host speaks ${ST_PLUGIN_API_VERSION}`,
      file,
    );
  }
  const opt = (k: string): string | undefined => (typeof m[k] === 'string' ? (m[k] as string) : undefined);
  return {
    id: m.id as string,
    name: m.name as string,
    version: m.version as string,
    abiVersion: m.abi_version,
    description: opt('description'),
    author: opt('author'),
    homepage: opt('homepage'),
  };
}

/** The most any plugin string may hold (JSON results, state, metadata); callers may ask for less. */
export const MAX_PLUGIN_STRING_BYTES = 64 << 20;

/** Shadow copies whose removal Windows refused; retried before each new copy. */
const undeletedShadows = new Set<string>();

/**
 * Removes a shadow copy. Windows refuses to delete a DLL that is still mapped (after a failed
 * load the loader may hold it for a moment): that must never replace the real reason a load
 * failed, so the file is removed on a later try instead.
 */
function removeShadow(shadow: string): void {
  try {
    fs.rmSync(shadow, { force: true });
    undeletedShadows.delete(shadow);
  } catch {
    undeletedShadows.add(shadow);
  }
}

/**
 * Removes a shadow copy off the event loop (a pool thread's unlink). Unlinking a file written
 * moments ago may wait for its writeback on a busy disk: scenario C saw reload and folder-scan
 * callbacks block 36–83 ms off CPU in the synchronous one. A refusal (Windows) is retried as above.
 */
function removeShadowLater(shadow: string): Promise<void> {
  return fs.promises.rm(shadow, { force: true }).then(
    () => void undeletedShadows.delete(shadow),
    () => void undeletedShadows.add(shadow),
  );
}

/** Copies `file` into `shadowDir` under a unique name and returns the copy's path. */
function makeShadowCopy(file: string, shadowDir: string, leaseId: number): string {
  for (const old of [...undeletedShadows]) removeShadow(old);
  fs.mkdirSync(shadowDir, { recursive: true });
  const base = path.basename(file);
  const shadow = path.join(shadowDir, `g${leaseId}-${process.pid}-${Date.now().toString(36)}-${base}`);
  // A reflink where the file system has them (btrfs, xfs): the copy is then a metadata update, not
  // a read and write of the whole library on the event loop; a plain copy elsewhere.
  fs.copyFileSync(file, shadow, fs.constants.COPYFILE_FICLONE);
  return shadow;
}

let preparedCount = 0;

/** Makes a shadow copy of `file` with asynchronous I/O, for a load to take (LoadOptions.prepared):
 * the registry awaits it before the synchronous load, so a plugin's hot-load or reload does not
 * read and write its library on the event loop. */
export async function prepareShadowCopy(file: string, shadowDir: string): Promise<string> {
  await fs.promises.mkdir(shadowDir, { recursive: true });
  const shadow = path.join(shadowDir, `a${++preparedCount}-${process.pid}-${Date.now().toString(36)}-${path.basename(file)}`);
  await fs.promises.copyFile(file, shadow, fs.constants.COPYFILE_FICLONE);
  return shadow;
}

/** Removes a prepared shadow copy no load took. */
export function discardShadowCopy(shadow: string): Promise<void> {
  return removeShadowLater(shadow);
}

export type GenerationState = 'active' | 'retired' | 'unloading' | 'unloaded';

/**
 * A loaded library. Instances created from it count as references; the registry unloads a
 * retired generation when the count reaches zero.
 */
export class PluginGeneration {
  state: GenerationState = 'active';
  private liveRefs = 0;
  private readonly vtableCache = new Map<string, unknown>();
  private idleListener: (() => void) | null = null;
  /** The module table's address (for a worker thread attaching to this load). */
  modulePointer: Pointer = 0n;
  /** True for a worker thread's view of a load made by another thread (see attach). */
  attached = false;

  private constructor(
    readonly leaseId: number,
    readonly sourcePath: string,
    readonly shadowPath: string,
    readonly metadata: PluginMetadata,
    readonly capabilities: CapabilityInfo[],
    readonly dataDir: string,
    /** The build's identity (crash records and quarantine name builds by it). */
    readonly fingerprint: string,
    private readonly lib: LibraryHandle,
    private readonly hostMem: { table: Pointer; dataDir: Pointer; releaseLog: () => void },
    private readonly createFn: NativeFn,
    private readonly shutdownFn: NativeFn | null,
    private readonly freeFn: NativeFn,
  ) {}

  get pluginId(): string {
    return this.metadata.id;
  }

  /** Live references (instances, and anything else that must keep the library mapped). */
  get refs(): number {
    return this.liveRefs;
  }

  /** The module's create_instance function (used by instances.ts). */
  get createInstanceFn(): NativeFn {
    return this.createFn;
  }

  capability(kind: CapabilityKindName, typeId: string): CapabilityInfo | undefined {
    return this.capabilities.find((c) => c.kind === kind && c.typeId === typeId);
  }

  /** Decodes a vtable once per generation, keyed by its address and role (decoded slots cost
   * ~40 ns a call; decoding costs far more). */
  cachedVtable<T>(key: string, decode: () => T): T {
    const hit = this.vtableCache.get(key);
    if (hit !== undefined) return hit as T;
    const value = decode();
    this.vtableCache.set(key, value);
    return value;
  }

  /**
   * Reads a plugin-returned string and frees it through the module's free_mem. A string over
   * `maxBytes` is freed unread and refused (PluginResultTooLarge).
   */
  takeString(raw: RawStr, maxBytes = MAX_PLUGIN_STRING_BYTES): string {
    const owned = raw.ptr !== null && raw.ptr !== 0n;
    const len = Number(raw.len);
    if (owned && len > maxBytes) {
      this.freeFn(raw.ptr);
      throw new PluginResultTooLarge(len, maxBytes);
    }
    const text = readStr(raw);
    if (owned) this.freeFn(raw.ptr);
    return text;
  }

  /** Frees plugin memory without reading it. */
  freeMem(ptr: Pointer | null): void {
    if (ptr !== null && ptr !== 0n) this.freeFn(ptr);
  }

  retain(): void {
    if (this.state !== 'active' && this.state !== 'retired') {
      throw new Error(`generation ${this.leaseId} of ${this.pluginId} is ${this.state}`);
    }
    this.liveRefs++;
  }

  release(): void {
    if (this.liveRefs <= 0) throw new Error(`release without retain on ${this.pluginId}#${this.leaseId}`);
    this.liveRefs--;
    if (this.liveRefs === 0 && this.idleListener) this.idleListener();
  }

  /** Called when the last reference is released (the registry unloads retired generations). */
  onIdle(listener: () => void): void {
    this.idleListener = listener;
  }

  /**
   * Shuts the module down and unloads the copy. shutdown may join plugin threads which may be
   * waiting for this event loop (a notifier or log relay), so it runs on a pool thread.
   */
  async unload(opts: { keepLoaded?: boolean } = {}): Promise<void> {
    if (this.state === 'unloading' || this.state === 'unloaded') return;
    if (this.liveRefs > 0) throw new Error(`cannot unload ${this.pluginId}#${this.leaseId}: ${this.liveRefs} references`);
    this.state = 'unloading';
    if (this.attached) {
      // Only our dlopen reference goes; the owning thread shuts the module down.
      this.lib.unload();
      this.vtableCache.clear();
      this.state = 'unloaded';
      return;
    }
    if (this.shutdownFn) {
      const shutdown = this.shutdownFn;
      await new Promise<void>((resolve) => shutdown.async((_err: unknown) => resolve()));
    }
    // keepLoaded (the checker, valgrind/ASan runs): shut down but leave the code mapped, so a
    // thread the plugin failed to join does not jump into unmapped memory, and leak reports can
    // still name the plugin's functions. closeLibrary() unmaps it later.
    if (opts.keepLoaded) {
      this.state = 'unloaded';
      return;
    }
    await whenLoaderIdle(); // dlclose without waiting on the warmer's loader lock
    this.closeLibrary();
    await this.shadowRemoved;
  }

  /** The shadow copy's removal, once the library is closed. */
  private shadowRemoved: Promise<void> = Promise.resolve();

  /** Unmaps a library shut down with unload({ keepLoaded: true }) (and frees the host table). */
  closeLibrary(): void {
    if (this.libClosed) return;
    this.libClosed = true;
    unguardLibrary(this.shadowPath);
    stallMonitor.section(`dlclose ${path.basename(this.sourcePath)}`, () => this.lib.unload());
    this.hostMem.releaseLog();
    koffi.free(this.hostMem.table);
    koffi.free(this.hostMem.dataDir);
    this.vtableCache.clear();
    this.shadowRemoved = removeShadowLater(this.shadowPath);
    this.state = 'unloaded';
  }

  private libClosed = false;

  /**
   * A worker thread's view of a generation the main thread loaded: dlopens the same shadow copy
   * (a refcounted dlopen, so the worker shares the one mapped instance and its statics) and
   * decodes the module table at `modulePointer` WITHOUT calling the entry again. koffi types are
   * per thread, so the worker must do this itself; only the bigint pointer crosses. The loading
   * thread must keep its generation referenced while the worker uses it; unload() here only
   * drops the worker's dlopen reference.
   */
  static attach(shadowPath: string, modulePointer: Pointer, leaseId: number, sourcePath = shadowPath): PluginGeneration {
    const lib = koffi.load(shadowPath);
    try {
      const abiVersion = koffi.decode(modulePointer, 'uint32_t') as number;
      if (abiVersion !== ST_PLUGIN_API_VERSION) {
        throw new PluginLoadError('wrong_abi', `attached module speaks ABI ${abiVersion}`, sourcePath);
      }
      const mod = koffi.decode(modulePointer, StModule) as {
        metadata_json: Pointer | null;
        capability_count: number;
        capabilities: Pointer | null;
        create_instance: Pointer | null;
        free_mem: Pointer | null;
      };
      const createFn = fnOrNull(mod.create_instance, Proto.createInstance);
      const freeFn = fnOrNull(mod.free_mem, Proto.freeMem);
      if (!createFn || !freeFn || !mod.metadata_json) {
        throw new PluginLoadError('bad_module', 'attached module lacks create_instance, free_mem or metadata', sourcePath);
      }
      const metadata = parseMetadata(koffi.decode.string(mod.metadata_json), sourcePath);
      const capabilities = decodeCapabilities(mod.capabilities, mod.capability_count, sourcePath);
      const gen = new PluginGeneration(
        leaseId,
        sourcePath,
        shadowPath,
        metadata,
        capabilities,
        '',
        '',
        lib,
        { table: 0n, dataDir: 0n, releaseLog: () => {} },
        createFn,
        null,
        freeFn,
      );
      gen.modulePointer = modulePointer;
      gen.attached = true;
      return gen;
    } catch (err) {
      lib.unload();
      throw err;
    }
  }

  /**
   * Loads `file` as generation `opts.leaseId`; throws PluginLoadError with a reason. The data
   * folder is named by the plugin id (data-folders.ts): a file whose id is not known yet is loaded
   * once to learn it (entry, then shutdown) and again with its own folder.
   */
  static load(file: string, opts: LoadOptions): PluginGeneration {
    const known = knownPluginId(opts.dataRoot, file);
    try {
      return PluginGeneration.loadOnce(file, opts, known);
    } catch (err) {
      if (!(err instanceof WrongDataFolder)) throw err;
      fs.rmSync(path.join(opts.dataRoot, probeDir()), { recursive: true, force: true });
      migrateDataFolder(opts.dataRoot, file, err.pluginId);
      rememberPluginId(opts.dataRoot, file, err.pluginId);
      return PluginGeneration.loadOnce(file, opts, err.pluginId);
    }
  }

  private static loadOnce(file: string, opts: LoadOptions, dataId: string | null): PluginGeneration {
    let shadow: string;
    try {
      const ready = opts.prepared?.shadow ?? null;
      if (opts.prepared) opts.prepared.shadow = null;
      shadow = ready ?? stallMonitor.section(`shadow copy ${path.basename(file)}`, () => makeShadowCopy(file, opts.shadowDir, opts.leaseId));
    } catch (err) {
      throw new PluginLoadError('io', `cannot copy the library: ${(err as Error).message}`, file);
    }
    // Check the copy (not the original, which may change under us) before dlopen sees it.
    const defect = stallMonitor.section(`check ${path.basename(file)}`, () => checkLibraryFile(shadow));
    if (defect) {
      removeShadow(shadow);
      throw new PluginLoadError('not_a_library', `not a loadable shared library: ${defect}`, file);
    }
    let fingerprint: string;
    try {
      fingerprint = libraryFingerprint(shadow, file);
    } catch (err) {
      removeShadow(shadow);
      throw new PluginLoadError('io', `cannot read the library: ${(err as Error).message}`, file);
    }
    // Guarded before dlopen: constructors and the entry run plugin code too.
    guardLibrary(shadow, '', fingerprint);
    crashStep('load');
    let lib: LibraryHandle;
    try {
      lib = stallMonitor.section(`dlopen ${path.basename(file)}`, () => koffi.load(shadow));
    } catch (err) {
      unguardLibrary(shadow);
      removeShadow(shadow);
      throw new PluginLoadError('not_a_library', `not a loadable shared library: ${(err as Error).message}`, file);
    }
    const hostAlloc: { table: Pointer | null; dataDir: Pointer | null; releaseLog: () => void } = {
      table: null,
      dataDir: null,
      releaseLog: () => {},
    };
    const fail = (err: unknown): never => {
      unguardLibrary(shadow);
      lib.unload();
      hostAlloc.releaseLog();
      if (hostAlloc.table) koffi.free(hostAlloc.table);
      if (hostAlloc.dataDir) koffi.free(hostAlloc.dataDir);
      removeShadow(shadow);
      throw err;
    };
    try {
      let entry: NativeFn;
      try {
        entry = lib.func(ST_PLUGIN_ENTRY_SYMBOL, 'void *', ['void *']) as NativeFn;
      } catch {
        throw new PluginLoadError('missing_entry', `the library does not export ${ST_PLUGIN_ENTRY_SYMBOL}`, file);
      }

      // The entry may read data_dir before we know the plugin id: the id this file had before, or
      // a probe folder for a file never seen (load() then loads it again with the right one).
      const dataDir = path.join(opts.dataRoot, dataId ?? probeDir());
      fs.mkdirSync(dataDir, { recursive: true });
      const dirBytes = Buffer.from(`${dataDir}\0`, 'utf8');
      hostAlloc.dataDir = koffi.alloc('uint8_t', dirBytes.length) as Pointer;
      koffi.encode(hostAlloc.dataDir, 'uint8_t', Array.from(dirBytes), dirBytes.length);
      const sink: LogSink = (level, message) => opts.log?.(file, level, message);
      const logReg = registerLogSink(sink);
      hostAlloc.releaseLog = logReg.release;
      hostAlloc.table = koffi.alloc(StHost, 1) as Pointer;
      koffi.encode(hostAlloc.table, StHost, {
        abi_version: ST_PLUGIN_API_VERSION,
        struct_size: koffi.sizeof(StHost),
        host_data: logReg.hostData,
        log: logReg.fn,
        data_dir: hostAlloc.dataDir,
      });

      crashStep('entry');
      const modulePtr = stallMonitor.section(`entry ${path.basename(file)}`, () => entry(hostAlloc.table)) as Pointer | null;
      if (modulePtr === null || modulePtr === 0n) {
        throw new PluginLoadError('entry_null', `${ST_PLUGIN_ENTRY_SYMBOL} returned NULL (the plugin refused to start)`, file);
      }
      // Check the version before trusting any other field's layout.
      const abiVersion = koffi.decode(modulePtr, 'uint32_t') as number;
      if (abiVersion !== ST_PLUGIN_API_VERSION) {
        throw new PluginLoadError(
          'wrong_abi',
          `built for plugin ABI ${abiVersion}, this host speaks ${ST_PLUGIN_API_VERSION}; rebuild it against the current headers`,
          file,
        );
      }
      const mod = koffi.decode(modulePtr, StModule) as {
        struct_size: number;
        metadata_json: Pointer | null;
        capability_count: number;
        capabilities: Pointer | null;
        create_instance: Pointer | null;
        shutdown: Pointer | null;
        free_mem: Pointer | null;
      };
      if (mod.struct_size < koffi.sizeof(StModule)) {
        throw new PluginLoadError('bad_module', `st_module_t.struct_size ${mod.struct_size} < ${koffi.sizeof(StModule)}`, file);
      }
      const createFn = fnOrNull(mod.create_instance, Proto.createInstance);
      const freeFn = fnOrNull(mod.free_mem, Proto.freeMem);
      if (!createFn || !freeFn) {
        throw new PluginLoadError('bad_module', 'st_module_t lacks create_instance or free_mem', file);
      }
      if (mod.metadata_json === null || mod.metadata_json === 0n) {
        throw new PluginLoadError('bad_metadata', 'metadata_json is NULL', file);
      }
      const metadataText = koffi.decode.string(mod.metadata_json);
      if (Buffer.byteLength(metadataText, 'utf8') > ST_METADATA_MAX_BYTES) {
        throw new PluginLoadError(
          'metadata_too_large',
          `metadata_json is ${Buffer.byteLength(metadataText, 'utf8')} bytes, the limit is ${ST_METADATA_MAX_BYTES}`,
          file,
        );
      }
      const { metadata, capabilities } = stallMonitor.section(`metadata ${path.basename(file)}`, () => ({
        metadata: parseMetadata(metadataText, file),
        capabilities: decodeCapabilities(mod.capabilities, mod.capability_count, file),
      }));
      const shutdownFn = fnOrNull(mod.shutdown, Proto.shutdown);
      if (metadata.id !== dataId) {
        // The plugin saw another folder than its own: shut this load down and load again.
        crashStep('shutdown');
        shutdownFn?.();
        throw new WrongDataFolder(metadata.id);
      }
      unguardLibrary(shadow);
      guardLibrary(shadow, metadata.id, fingerprint);
      const gen = new PluginGeneration(
        opts.leaseId,
        file,
        shadow,
        metadata,
        capabilities,
        dataDir,
        fingerprint,
        lib,
        { table: hostAlloc.table, dataDir: hostAlloc.dataDir, releaseLog: hostAlloc.releaseLog },
        createFn,
        shutdownFn,
        freeFn,
      );
      gen.modulePointer = modulePtr;
      return gen;
    } catch (err) {
      return fail(err);
    }
  }
}

/** Thrown inside load() when the entry ran with a data folder not named by the plugin's id. */
class WrongDataFolder extends Error {
  constructor(readonly pluginId: string) {
    super(`data folder for ${pluginId}`);
  }
}

const MAX_CAPABILITIES = 256;

function decodeCapabilities(table: Pointer | null, count: number, file: string): CapabilityInfo[] {
  if (count === 0) return [];
  if (count > MAX_CAPABILITIES || table === null || table === 0n) {
    throw new PluginLoadError('bad_module', `capability table invalid (count ${count})`, file);
  }
  const pointers = koffi.decode(table, 'void *', count) as (Pointer | null)[];
  const seen = new Set<string>();
  return pointers.map((ptr, i) => {
    if (ptr === null || ptr === 0n) throw new PluginLoadError('bad_module', `capability ${i} is NULL`, file);
    const size = koffi.decode(ptr, 'uint32_t') as number;
    if (size < koffi.sizeof(StCapability)) {
      throw new PluginLoadError('bad_module', `capability ${i}: struct_size ${size} too small`, file);
    }
    const c = koffi.decode(ptr, StCapability) as {
      kind: number;
      type_id: string | null;
      display_name: string | null;
      config_schema_json: string | null;
      default_config_json: string | null;
      decoder_exts: Pointer | null;
      decoder_ext_count: number;
    };
    const kind = kindNames[c.kind as CapabilityKindCode];
    if (!kind) throw new PluginLoadError('bad_module', `capability ${i}: unknown kind ${c.kind}`, file);
    if (!c.type_id) throw new PluginLoadError('bad_module', `capability ${i}: type_id is NULL`, file);
    const key = `${kind}/${c.type_id}`;
    if (seen.has(key)) throw new PluginLoadError('bad_module', `capability ${key} declared twice`, file);
    seen.add(key);
    const extensions: { ext: string; score: number }[] = [];
    if (kind === 'decoder' && c.decoder_exts && c.decoder_ext_count > 0) {
      const exts = koffi.decode(c.decoder_exts, StExtScore, Math.min(c.decoder_ext_count, 1024)) as {
        ext: string | null;
        score: number;
      }[];
      for (const e of exts) if (e.ext) extensions.push({ ext: e.ext.toLowerCase(), score: e.score });
    }
    return {
      kind,
      typeId: c.type_id,
      displayName: c.display_name ?? c.type_id,
      configSchema: parseJsonField(c.config_schema_json ?? '{}', `${key} config schema`, file),
      defaultConfig: parseJsonField(c.default_config_json ?? '{}', `${key} default config`, file),
      extensions,
    };
  });
}
