// A track's cover (its `cover` URL when one is known), or a note glyph in the same box.
import { type CSSProperties, type JSX, useState } from 'react';
import type { TrackInfo } from '../../src-shared/player-types.js';
import { Icon } from './Icons.js';

export function Cover({ track, size, className = '' }: { track: TrackInfo | null; size: number; className?: string }): JSX.Element {
  const [failed, setFailed] = useState<string | null>(null);
  const src = track?.cover;
  const shown = src !== undefined && failed !== src;
  return (
    <span className={`cover ${shown ? 'has-image' : ''} ${className}`} style={{ '--cover-size': `${size}px` } as CSSProperties} aria-hidden data-testid="cover">
      {shown ? <img src={src} alt="" loading="lazy" width={size} height={size} onError={() => setFailed(src)} /> : Icon.music({ size: Math.round(size * 0.42) })}
    </span>
  );
}
