// File modification times, for skipping build steps whose outputs are up to date.
import fs from "node:fs";
import path from "node:path";

/** Returns the modification time of `file` in ms, or undefined when it does not exist. */
export function modificationTime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch (error) {
    if (error.code === "ENOENT") {
      return undefined;
    }
    throw error;
  }
}

/**
 * Returns the newest modification time in ms among the files under `roots` that `accept`
 * selects, and the folders walked (except the roots themselves), because adding, renaming
 * or deleting a file changes the time of its folder. Folders named in `skip` are not walked.
 * Returns 0 when nothing matches. A missing root is ignored.
 */
export function newestModificationTime(roots, { accept = () => true, skip = [] } = {}) {
  let newest = 0;
  const pending = roots.filter((root) => fs.existsSync(root)).map((root) => ({ folder: root, isRoot: true }));

  while (pending.length > 0) {
    const { folder, isRoot } = pending.pop();
    if (!isRoot) {
      newest = Math.max(newest, fs.statSync(folder).mtimeMs);
    }
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const entryPath = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        if (!skip.includes(entry.name)) {
          pending.push({ folder: entryPath, isRoot: false });
        }
      } else if (entry.isFile() && accept(entryPath)) {
        newest = Math.max(newest, fs.statSync(entryPath).mtimeMs);
      }
    }
  }
  return newest;
}
