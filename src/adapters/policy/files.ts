// Reading MUD files from disk: a size cap, then the pure importer.
import { readFileSync, statSync } from 'node:fs';
import { ErrorCodes, IotguardError } from '../../core/model/errors.js';
import { importMudText, type ImportResult, type LearnedDevice } from '../../core/policy/import.js';

/** MUD files are small (the largest public ones are ~70 KiB); refuse anything absurd. */
export const MAX_MUD_BYTES = 4 * 1024 * 1024;

export function readMudFile(file: string): { result: ImportResult; device?: LearnedDevice } {
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new IotguardError(ErrorCodes.FILE_NOT_FOUND, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  if (size > MAX_MUD_BYTES) {
    const reason = `/: file is ${size} bytes, over the ${MAX_MUD_BYTES}-byte limit for a MUD file`;
    return { result: { ok: false, reason, errors: [{ path: '/', message: reason.slice(3) }], warnings: [] } };
  }
  const result = importMudText(readFileSync(file, 'utf8'));
  return result.ok && result.device ? { result, device: result.device } : { result };
}
