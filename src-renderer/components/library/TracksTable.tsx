// The tracks table: virtualized (only the rows on screen exist in the DOM, rows are fetched by id
// as they scroll into view), sortable and resizable columns, multi-select (click, Ctrl, Shift,
// Ctrl+A), a context menu, drag to the queue or a playlist. One table serves every list view:
// it is given the ids in order and loads the rows itself.
import { useVirtualizer } from '@tanstack/react-virtual';
import { type JSX, type MouseEvent as ReactMouseEvent, type DragEvent as ReactDragEvent, memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { LibraryTrack, TrackSort } from '../../../src-shared/contract-library.js';
import { formatTime } from '../../lib/format.js';
import { api } from '../../store/api.js';
import { useStore } from '../../store/index.js';
import { TrackMenu, type MenuAt } from './TrackMenu.js';

export const TRACKS_MIME = 'application/x-stellatune-tracks';

interface Column {
  key: TrackSort;
  label: string;
  width: number;
  align?: 'right';
  /** Short values that always fit a column at least `min` wide: their cells need no clip and
   * ellipsis. A clip is a paint chunk of its own, and the chunks of the rows that scroll in are
   * what Chromium's layerization walks every frame that paints. */
  min?: number;
  cell(t: LibraryTrack): string;
}

const COLUMNS: Column[] = [
  { key: 'title', label: 'Title', width: 260, cell: (t) => t.title },
  { key: 'artist', label: 'Artist', width: 180, cell: (t) => t.artist ?? '' },
  { key: 'album', label: 'Album', width: 180, cell: (t) => t.album ?? '' },
  { key: 'trackNo', label: '#', width: 44, min: 44, align: 'right', cell: (t) => (t.trackNo === null ? '' : t.discNo && t.discNo > 1 ? `${t.discNo}.${t.trackNo}` : String(t.trackNo)) },
  { key: 'durationMs', label: 'Time', width: 64, min: 60, align: 'right', cell: (t) => (t.durationMs === null ? '' : formatTime(t.durationMs)) },
  { key: 'year', label: 'Year', width: 56, min: 56, align: 'right', cell: (t) => (t.year === null ? '' : String(t.year)) },
  { key: 'genre', label: 'Genre', width: 110, cell: (t) => t.genres.join(', ') },
  { key: 'codec', label: 'Format', width: 120, cell: (t) => [t.codec, t.sampleRate ? `${(t.sampleRate / 1000).toFixed(1)} kHz` : null].filter(Boolean).join(' · ') },
  { key: 'playCount', label: 'Plays', width: 56, min: 56, align: 'right', cell: (t) => (t.playCount ? String(t.playCount) : '') },
  { key: 'rating', label: 'Rating', width: 80, min: 80, cell: (t) => '★'.repeat(t.rating) },
  { key: 'addedAt', label: 'Added', width: 96, cell: (t) => new Date(t.addedAt).toLocaleDateString() },
];

const WIDTHS_KEY = 'stellatune.trackColumns';
const ROW_PX = 32;
const PAGE = 200;
// Rows are made in blocks of BLOCK: a block is placed once and its rows sit in it as in any
// list, so a scroll step moves nothing on the main thread (the compositor scrolls the painted
// blocks) until a block boundary is crossed, and then one block is made. One block is kept
// beyond each edge of the view, and one more ahead in the direction of the scroll.
const BLOCK = 16;
const BLOCK_PX = BLOCK * ROW_PX;
/** What a row does when used; one stable object, so that rows are not re-rendered by scrolling. */
interface RowActions {
  select(index: number, e: { ctrlKey: boolean; metaKey: boolean; shiftKey: boolean }): void;
  play(index: number): void;
  menu(index: number, id: number, t: LibraryTrack | undefined, e: ReactMouseEvent): void;
  drag(id: number, t: LibraryTrack | undefined, e: ReactDragEvent): void;
}

interface RowProps {
  index: number;
  track: LibraryTrack | undefined;
  id: number;
  template: string;
  columns: Column[];
  /** The columns in view (horizontally): only their cells are made. */
  colFrom: number;
  colTo: number;
  selected: boolean;
  current: boolean;
  actions: RowActions;
}

// A row renders again only when its own props change (its block re-renders when rows load or the
// selection changes).
const TrackRow = memo(function TrackRow({ index, track: t, id, template, columns, colFrom, colTo, selected, current, actions }: RowProps): JSX.Element {
  return (
    <div
      className={`tt-row ${selected ? 'is-selected' : ''} ${current ? 'is-current' : ''} ${t?.missing ? 'is-missing' : ''} ${index % 2 ? 'odd' : ''}`}
      style={{ gridTemplateColumns: template }}
      role="row"
      aria-rowindex={index + 1}
      aria-selected={selected}
      data-testid="track-row"
      data-loading={t ? undefined : ''}
      draggable
      onMouseDown={(e) => {
        if (e.button === 0) actions.select(index, e);
      }}
      onDoubleClick={() => actions.play(index)}
      onContextMenu={(e) => actions.menu(index, id, t, e)}
      onDragStart={(e) => actions.drag(id, t, e)}
    >
      {/* A row still loading has the same cells, empty but for "…": when its data arrives (or a
          reused row waits for new data) only text changes, no cell is removed or made. */}
      {columns.slice(colFrom, colTo + 1).map((c, k) => (
        <span
          key={c.key}
          className={`tt-td ${c.align === 'right' ? 'right' : ''} ${c.key === 'title' ? 'title' : ''} ${c.min ? 'fits' : ''} ${t ? '' : 'muted'}`}
          // The first cell made sits in its own column; the others follow it in the grid.
          style={k === 0 && colFrom > 0 ? { gridColumnStart: colFrom + 1 } : undefined}
          title={c.key === 'title' && t?.missing ? 'Missing: the file is gone' : undefined}
        >
          {t ? c.cell(t) : k === 0 ? '…' : ''}
        </span>
      ))}
    </div>
  );
});

interface BlockProps {
  block: number;
  list: number[];
  rows: Map<number, LibraryTrack>;
  selected: Set<number>;
  currentPath: string | null;
  template: string;
  columns: Column[];
  colFrom: number;
  colTo: number;
  actions: RowActions;
}

// A block of BLOCK rows at its place in the table. Scrolling re-renders the table, not its
// blocks: a block renders again only when it is reused for other rows, rows load, or the
// selection, the playing track or the columns change.
const TrackBlock = memo(function TrackBlock({ block, list, rows, selected, currentPath, template, columns, colFrom, colTo, actions }: BlockProps): JSX.Element {
  const from = block * BLOCK;
  const to = Math.min(list.length, from + BLOCK);
  const out: JSX.Element[] = [];
  for (let index = from; index < to; index++) {
    const id = list[index]!;
    const t = rows.get(id);
    out.push(
      <TrackRow
        // Keyed by place in the block: a block reused for other rows changes its rows' text.
        key={index - from}
        index={index}
        id={id}
        track={t}
        template={template}
        columns={columns}
        colFrom={colFrom}
        colTo={colTo}
        selected={selected.has(id)}
        current={t !== undefined && t.path === currentPath}
        actions={actions}
      />,
    );
  }
  return (
    <div className="tt-block" role="rowgroup" style={{ transform: `translateY(${from * ROW_PX}px)`, height: (to - from) * ROW_PX }}>
      {out}
    </div>
  );
});

function savedWidths(): Record<string, number> {
  try {
    return JSON.parse(localStorage.getItem(WIDTHS_KEY) ?? '{}') as Record<string, number>;
  } catch {
    return {};
  }
}

export interface TracksTableProps {
  ids: number[] | null;
  sort?: TrackSort | null;
  descending?: boolean;
  onSort?(key: TrackSort, descending: boolean): void;
  empty?: string;
  testId?: string;
}

export function TracksTable({ ids, sort, descending, onSort, empty, testId }: TracksTableProps): JSX.Element {
  const version = useStore((s) => s.lib.version + s.lib.historyVersion * 1_000_003);
  const currentPath = useStore((s) => (s.status?.current?.source.kind === 'file' ? s.status.current.source.path : null));
  const playTrackIds = useStore((s) => s.playTrackIds);
  const [rows, setRows] = useState<Map<number, LibraryTrack>>(() => new Map());
  const [widths, setWidths] = useState<Record<string, number>>(savedWidths);
  const [selected, setSelected] = useState<Set<number>>(() => new Set());
  const [anchor, setAnchor] = useState<number | null>(null);
  const [menu, setMenu] = useState<MenuAt | null>(null);
  const scrollRef = useRef<HTMLDivElement>(null);
  const loading = useRef(new Set<number>());
  const list = useMemo(() => ids ?? [], [ids]);

  // No flushSync on scroll: React renders in its own turn instead of inside every scroll event,
  // and several scroll events can share one render. The virtualizer places blocks, not rows, and
  // (directDomUpdates, with no element handed to it to move) re-renders the table only when the
  // blocks in view change, not on every scroll step: the blocks carry their own places.
  const blockCount = Math.ceil(list.length / BLOCK);
  const virtualRef = useRef<{ scrollDirection: 'forward' | 'backward' | null } | null>(null);
  const virtualizer = useVirtualizer({
    count: blockCount,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => BLOCK_PX,
    overscan: 1,
    useFlushSync: false,
    directDomUpdates: true,
    // One more block ahead of a scroll, where the next rows come from.
    rangeExtractor: (r) => {
      const dir = virtualRef.current?.scrollDirection;
      const start = Math.max(0, r.startIndex - r.overscan - (dir === 'backward' ? 1 : 0));
      const end = Math.min(r.count - 1, r.endIndex + r.overscan + (dir === 'forward' ? 1 : 0));
      return Array.from({ length: end - start + 1 }, (_, i) => start + i);
    },
  });
  virtualRef.current = virtualizer;
  const items = virtualizer.getVirtualItems();
  // Blocks are keyed by slot, not by index: a block that scrolls out is reused for one that
  // scrolls in (its rows' text changes) instead of being removed and another made. Items are
  // contiguous, so index mod `slots` is unique among them while `slots` is at least their count.
  const slots = Math.max(8, items.length);
  const first = (items[0]?.index ?? 0) * BLOCK;
  const last = items.length > 0 ? Math.min(list.length, (items[items.length - 1]!.index + 1) * BLOCK) - 1 : -1;

  // Rows change (play counts, tags): drop the cache, the visible pages load again. Replies asked
  // for before that are of an older generation and are dropped.
  const generation = useRef(0);
  useEffect(() => {
    generation.current++;
    setRows(new Map());
    loading.current.clear();
  }, [version, ids]);

  // The range in view now, for a reply that arrives after the view has moved on.
  const range = useRef({ first, last });
  range.current = { first, last };
  useEffect(() => {
    if (last < 0) return;
    // The pages under the view and the next one each way: rows arrive before they scroll into
    // view, so a row is drawn once with its data instead of as a placeholder first.
    const from = Math.max(0, (Math.floor(first / PAGE) - 1) * PAGE);
    const to = Math.min(list.length, (Math.ceil((last + 1) / PAGE) + 1) * PAGE);
    const want = list.slice(from, to).filter((id) => !rows.has(id) && !loading.current.has(id));
    if (want.length === 0) return;
    for (const id of want) loading.current.add(id);
    const gen = generation.current;
    // A reply is kept even if the view has moved since it was asked for (a fast scroll moves on
    // before a page arrives; dropping it would leave the rows blank until the scroll stops).
    void api()
      .library.tracksById({ ids: want })
      .then((got) => {
        if (gen !== generation.current) return;
        setRows((prev) => {
          // Keep the rows near the view only: far-away pages are fetched again if scrolled back to.
          const { first: f, last: l } = range.current;
          const keep = prev.size > 3000 ? new Set(list.slice(Math.max(0, f - 1000), l + 1000)) : null;
          const next = keep ? new Map([...prev].filter(([id]) => keep.has(id))) : new Map(prev);
          for (const t of got) next.set(t.id, t);
          return next;
        });
      })
      .catch(() => {})
      .finally(() => {
        if (gen === generation.current) for (const id of want) loading.current.delete(id);
      });
  }, [first, last, list, rows]);

  const columns = useMemo(() => COLUMNS.map((c) => ({ ...c, width: Math.max(c.min ?? 0, widths[c.key] ?? c.width) })), [widths]);
  const template = useMemo(() => columns.map((c) => `${c.width}px`).join(' '), [columns]);
  const totalWidth = columns.reduce((a, c) => a + c.width, 0);

  // The columns in view: a table wider than its pane (eleven columns) makes only the cells that
  // can be seen, which is most of the work of a row that scrolls in.
  const [view, setView] = useState({ left: 0, width: 4000 });
  const measureView = useCallback((): void => {
    const el = scrollRef.current;
    if (!el) return;
    const next = { left: el.scrollLeft, width: el.clientWidth };
    setView((v) => (v.left === next.left && v.width === next.width ? v : next));
  }, []);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (!el) return;
    measureView();
    const ro = new ResizeObserver(measureView);
    ro.observe(el);
    return () => ro.disconnect();
  }, [measureView, ids]);
  let colFrom = 0;
  let colTo = columns.length - 1;
  {
    let x = 0;
    let seenFrom = false;
    for (let i = 0; i < columns.length; i++) {
      const end = x + columns[i]!.width;
      if (!seenFrom && end > view.left) {
        colFrom = i;
        seenFrom = true;
      }
      if (x < view.left + view.width) colTo = i;
      x = end;
    }
  }

  const startResize = (key: string, startX: number, startW: number): void => {
    const min = COLUMNS.find((c) => c.key === key)?.min ?? 36;
    const move = (e: MouseEvent): void => setWidths((w) => ({ ...w, [key]: Math.max(min, Math.round(startW + e.clientX - startX)) }));
    const up = (): void => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      setWidths((w) => {
        localStorage.setItem(WIDTHS_KEY, JSON.stringify(w));
        return w;
      });
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };

  // The rows' handlers read the table's latest state through this ref, so `actions` never changes.
  const latest = useRef({ list, selected, anchor, playTrackIds });
  latest.current = { list, selected, anchor, playTrackIds };
  const actions = useMemo<RowActions>(() => {
    const chosen = (id: number): number[] => {
      const { list: l, selected: sel } = latest.current;
      return sel.has(id) ? l.filter((x) => sel.has(x)) : [id];
    };
    return {
      select: (index, e) => {
        const { list: l, anchor: from } = latest.current;
        const id = l[index]!;
        if (e.shiftKey && from !== null) {
          const [a, b] = from < index ? [from, index] : [index, from];
          setSelected(new Set(l.slice(a, b + 1)));
          return;
        }
        setAnchor(index);
        if (e.ctrlKey || e.metaKey) {
          setSelected((s) => {
            const n = new Set(s);
            if (n.has(id)) n.delete(id);
            else n.add(id);
            return n;
          });
        } else setSelected(new Set([id]));
      },
      play: (index) => void latest.current.playTrackIds(latest.current.list.slice(index, index + 1000), 'play'),
      menu: (index, id, t, e) => {
        e.preventDefault();
        const isSel = latest.current.selected.has(id);
        if (!isSel) {
          setSelected(new Set([id]));
          setAnchor(index);
        }
        const dir = t ? t.path.slice(0, Math.max(t.path.lastIndexOf('/'), t.path.lastIndexOf('\\'))) : null;
        setMenu({ x: e.clientX, y: e.clientY, ids: isSel ? chosen(id) : [id], dir, path: t?.path ?? null });
      },
      drag: (id, t, e) => {
        e.dataTransfer.effectAllowed = 'copy';
        e.dataTransfer.setData(TRACKS_MIME, JSON.stringify(chosen(id)));
        e.dataTransfer.setData('text/plain', t?.title ?? '');
      },
    };
  }, []);

  if (ids === null) return <div className="center-pad muted">Loading…</div>;
  if (list.length === 0) return <div className="center-pad muted" data-testid={testId ? `${testId}-empty` : undefined}>{empty ?? 'No tracks.'}</div>;

  return (
    <div className="tracks-table" data-testid={testId ?? 'tracks-table'} data-count={list.length}>
      <div
        className="tt-scroll"
        ref={scrollRef}
        tabIndex={0}
        role="grid"
        onScroll={(e) => {
          // Only a horizontal move changes the columns in view.
          if (e.currentTarget.scrollLeft !== view.left) measureView();
        }}
        aria-rowcount={list.length}
        aria-multiselectable
        onKeyDown={(e) => {
          if ((e.ctrlKey || e.metaKey) && e.key === 'a') {
            setSelected(new Set(list));
            e.preventDefault();
          } else if (e.key === 'Enter' && selected.size > 0) {
            void playTrackIds(list.filter((x) => selected.has(x)), 'play');
            e.preventDefault();
          }
        }}
      >
        <div className="tt-head" style={{ gridTemplateColumns: template, width: totalWidth }} role="row">
          {columns.map((c) => (
            <div key={c.key} className={`tt-th ${c.align === 'right' ? 'right' : ''}`} role="columnheader" aria-sort={sort === c.key ? (descending ? 'descending' : 'ascending') : 'none'}>
              <button className="tt-sort" onClick={() => onSort?.(c.key, sort === c.key ? !descending : false)} disabled={!onSort} data-testid={`sort-${c.key}`}>
                {c.label}
                {sort === c.key ? <span aria-hidden>{descending ? ' ▾' : ' ▴'}</span> : null}
              </button>
              <span
                className="tt-resize"
                role="separator"
                aria-label={`Resize ${c.label}`}
                data-testid={`resize-${c.key}`}
                onMouseDown={(e) => {
                  e.preventDefault();
                  startResize(c.key, e.clientX, c.width);
                }}
              />
            </div>
          ))}
        </div>
        <div className="tt-body" style={{ height: virtualizer.getTotalSize(), width: totalWidth }}>
          {items.map((v) => (
            <TrackBlock
              key={v.index % slots}
              block={v.index}
              list={list}
              rows={rows}
              selected={selected}
              currentPath={currentPath}
              template={template}
              columns={columns}
              colFrom={colFrom}
              colTo={colTo}
              actions={actions}
            />
          ))}
        </div>
      </div>
      <div className="tt-foot muted small">
        {selected.size > 1 ? `${selected.size} of ` : ''}
        {list.length.toLocaleString()} track{list.length === 1 ? '' : 's'}
      </div>
      {menu ? <TrackMenu at={menu} onClose={() => setMenu(null)} /> : null}
    </div>
  );
}
