/** The evidence location of a file signal: its path and the layer it came from. */
import type { Location } from '../../core/finding.ts';
import type { FileContent } from '../layer-entry.ts';

export function fileLocation(file: FileContent): Location {
  return { path: file.entry.path, layer: file.layer };
}
