// An album cover thumbnail, or a placeholder note when there is none (or it fails to load).
import { type CSSProperties, type JSX, useState } from 'react';
import { type CoverPx, coverUrl } from '../../lib/covers.js';
import { Icon } from '../Icons.js';

export function Cover({ id, size, px, label }: { id: string | null; size: CoverPx; px: number; label: string }): JSX.Element {
  const [failed, setFailed] = useState<string | null>(null);
  const url = coverUrl(id, size);
  // The size goes through --cover-size: the queue's covers share the .cover class, whose width
  // (var(--cover-size, 36px)) beats an <img width> attribute; views that stretch covers (the grid)
  // still override it.
  const sized = { '--cover-size': `${px}px` } as CSSProperties;
  if (!url || failed === url) {
    return (
      <span className="cover cover-empty" style={sized} role="img" aria-label={`${label} (no cover)`}>
        {Icon.music({ size: Math.max(16, Math.round(px / 3)) })}
      </span>
    );
  }
  return <img className="cover" style={sized} src={url} width={px} height={px} alt={label} loading="lazy" decoding="async" draggable={false} onError={() => setFailed(url)} data-testid="cover-img" />;
}
