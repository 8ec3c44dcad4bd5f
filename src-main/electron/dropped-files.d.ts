export declare function pathsOfFiles(files: ArrayLike<File>, getPathForFile: (file: File) => string): string[];
