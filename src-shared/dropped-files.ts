// Files dropped on the Electron window: a sandboxed renderer sees File objects without paths, and
// Electron's webUtils.getPathForFile (preload only) names each one. Pure and DOM-free (here so the
// preload's project can use it). Files that are not on disk (a
// picture dragged out of a web page) have no path and are left out; a file it cannot name never
// fails the drop of the others.
export function pathsOfFiles<F>(files: ArrayLike<F>, getPathForFile: (file: F) => string): string[] {
  const out: string[] = [];
  for (let i = 0; i < files.length; i++) {
    let p = '';
    try {
      p = getPathForFile(files[i]!);
    } catch {
      // not a File from the drop (e.g. an object the page made)
    }
    if (typeof p === 'string' && p !== '') out.push(p);
  }
  return out;
}
