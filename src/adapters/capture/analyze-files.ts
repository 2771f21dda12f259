// The `analyze` use case: stream each capture file through one engine and
// return the result. Files are read one after the other; flows never span
// files, devices and DNS names do.
import { statSync } from 'node:fs';
import { TrafficEngine, type EngineOptions } from '../../core/engine/engine.js';
import type { AnalyzeResult } from '../../core/engine/events.js';
import type { IotguardError } from '../../core/model/errors.js';
import { readCaptureFile } from './file-source.js';

export interface AnalyzeFilesOptions extends EngineOptions {
  /** Progress in bytes read (compressed size for gzip), with the total of all files. */
  onProgress?: (done: number, total: number) => void;
}

export interface AnalyzeFilesResult {
  result: AnalyzeResult;
  /** Inputs that ended in error (their packets before the error are in the result). */
  failures: IotguardError[];
}

export async function analyzeFiles(paths: string[], opts: AnalyzeFilesOptions = {}): Promise<AnalyzeFilesResult> {
  const engine = new TrafficEngine(opts);
  const sizes = paths.map((p) => {
    try {
      return statSync(p).size;
    } catch {
      return 0;
    }
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  let done = 0;
  const failures: IotguardError[] = [];
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i];
    engine.beginInput(path);
    const before = done;
    const r = await readCaptureFile(path, engine, {
      onChunk: (n) => {
        done += n;
        opts.onProgress?.(Math.min(done, before + sizes[i]), total);
      },
    });
    done = before + sizes[i];
    if (r.error) {
      failures.push(r.error);
      engine.endInput({ code: r.error.code, message: r.error.message, offset: r.error.details?.offset as number | undefined });
    } else {
      engine.endInput();
    }
  }
  opts.onProgress?.(total, total);
  return { result: engine.finish(), failures };
}
