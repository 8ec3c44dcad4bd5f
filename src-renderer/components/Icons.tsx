// Inline SVG icons (24px grid, stroke = currentColor), so the UI has no icon-font or network fetch.
import type { JSX } from 'react';

type IconProps = { size?: number; title?: string };

function svg(paths: JSX.Element, { size = 20, title }: IconProps, fill = false): JSX.Element {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill={fill ? 'currentColor' : 'none'}
      stroke={fill ? 'none' : 'currentColor'}
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden={title ? undefined : true}
      role={title ? 'img' : undefined}
    >
      {title ? <title>{title}</title> : null}
      {paths}
    </svg>
  );
}

export const Icon = {
  play: (p: IconProps = {}) => svg(<path d="M7 4.5v15a1 1 0 0 0 1.5.86l12-7.5a1 1 0 0 0 0-1.72l-12-7.5A1 1 0 0 0 7 4.5z" />, p, true),
  pause: (p: IconProps = {}) => svg(<><rect x="6" y="4.5" width="4" height="15" rx="1" /><rect x="14" y="4.5" width="4" height="15" rx="1" /></>, p, true),
  next: (p: IconProps = {}) => svg(<><path d="M5 5.2v13.6a.8.8 0 0 0 1.2.7l10-6.8a.8.8 0 0 0 0-1.4l-10-6.8A.8.8 0 0 0 5 5.2z" /><rect x="17" y="5" width="2.5" height="14" rx="1" /></>, p, true),
  prev: (p: IconProps = {}) => svg(<><path d="M19 5.2v13.6a.8.8 0 0 1-1.2.7l-10-6.8a.8.8 0 0 1 0-1.4l10-6.8a.8.8 0 0 1 1.2.7z" /><rect x="4.5" y="5" width="2.5" height="14" rx="1" /></>, p, true),
  repeat: (p: IconProps = {}) => svg(<><path d="M17 2l4 4-4 4" /><path d="M3 11v-1a4 4 0 0 1 4-4h14" /><path d="M7 22l-4-4 4-4" /><path d="M21 13v1a4 4 0 0 1-4 4H3" /></>, p),
  shuffle: (p: IconProps = {}) => svg(<><path d="M16 3h5v5" /><path d="M4 20L21 3" /><path d="M21 16v5h-5" /><path d="M15 15l6 6" /><path d="M4 4l5 5" /></>, p),
  volume: (p: IconProps = {}) => svg(<><path d="M11 5L6 9H2v6h4l5 4V5z" /><path d="M15.5 8.5a5 5 0 0 1 0 7" /><path d="M19 5a10 10 0 0 1 0 14" /></>, p),
  mute: (p: IconProps = {}) => svg(<><path d="M11 5L6 9H2v6h4l5 4V5z" /><path d="M22 9l-6 6" /><path d="M16 9l6 6" /></>, p),
  queue: (p: IconProps = {}) => svg(<><path d="M3 6h13" /><path d="M3 12h13" /><path d="M3 18h9" /><path d="M17 15v6l4-3z" /></>, p),
  globe: (p: IconProps = {}) => svg(<><circle cx="12" cy="12" r="9" /><path d="M3 12h18" /><path d="M12 3a14 14 0 0 1 0 18" /><path d="M12 3a14 14 0 0 0 0 18" /></>, p),
  lyrics: (p: IconProps = {}) => svg(<><path d="M4 6h10" /><path d="M4 11h10" /><path d="M4 16h6" /><circle cx="17.5" cy="17.5" r="2.5" /><path d="M20 17.5V7l-3 1" /></>, p),
  plug: (p: IconProps = {}) => svg(<><path d="M9 2v6" /><path d="M15 2v6" /><path d="M6 8h12v3a6 6 0 0 1-12 0z" /><path d="M12 17v5" /></>, p),
  speaker: (p: IconProps = {}) => svg(<><rect x="5" y="2" width="14" height="20" rx="2" /><circle cx="12" cy="14" r="4" /><circle cx="12" cy="6.5" r="1" /></>, p),
  activity: (p: IconProps = {}) => svg(<path d="M22 12h-4l-3 9L9 3l-3 9H2" />, p),
  sun: (p: IconProps = {}) => svg(<><circle cx="12" cy="12" r="4" /><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" /></>, p),
  moon: (p: IconProps = {}) => svg(<path d="M21 12.8A9 9 0 1 1 11.2 3a7 7 0 0 0 9.8 9.8z" />, p),
  folder: (p: IconProps = {}) => svg(<path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" />, p),
  file: (p: IconProps = {}) => svg(<><path d="M9 18V5l12-2v13" /><circle cx="6" cy="18" r="3" /><circle cx="18" cy="16" r="3" /></>, p),
  plus: (p: IconProps = {}) => svg(<><path d="M12 5v14" /><path d="M5 12h14" /></>, p),
  trash: (p: IconProps = {}) => svg(<><path d="M3 6h18" /><path d="M8 6V4h8v2" /><path d="M19 6l-1 14H6L5 6" /></>, p),
  x: (p: IconProps = {}) => svg(<><path d="M18 6L6 18" /><path d="M6 6l12 12" /></>, p),
  reload: (p: IconProps = {}) => svg(<><path d="M21 12a9 9 0 1 1-2.6-6.4" /><path d="M21 3v6h-6" /></>, p),
  grip: (p: IconProps = {}) => svg(<><circle cx="9" cy="6" r="1" /><circle cx="15" cy="6" r="1" /><circle cx="9" cy="12" r="1" /><circle cx="15" cy="12" r="1" /><circle cx="9" cy="18" r="1" /><circle cx="15" cy="18" r="1" /></>, p),
  up: (p: IconProps = {}) => svg(<path d="M6 15l6-6 6 6" />, p),
  search: (p: IconProps = {}) => svg(<><circle cx="11" cy="11" r="7" /><path d="M21 21l-4.3-4.3" /></>, p),
  music: (p: IconProps = {}) => svg(<><path d="M9 18V5l12-2v13" /><circle cx="6" cy="18" r="3" /><circle cx="18" cy="16" r="3" /></>, p),
  sliders: (p: IconProps = {}) => svg(<><path d="M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6" /></>, p),
};

export function Spinner({ label }: { label?: string }): JSX.Element {
  return <span className="spinner" role="status" aria-label={label ?? 'Loading'} />;
}
