// fast-xml-parser, loaded from its CommonJS bundle. Its ESM entry is some
// forty modules (with is-unsafe, @nodable/entities, path-expression-matcher,
// fast-xml-builder) and took ~75 ms to load; the bundle is one file, ~12 ms.
// Every command that runs the detectors paid that, for SOAP bodies most
// captures never carry. Same package, same version, same classes.
import { createRequire } from 'node:module';
import type * as Fxp from 'fast-xml-parser';

const fxp = createRequire(import.meta.url)('fast-xml-parser') as typeof Fxp;

export const XMLParser: typeof Fxp.XMLParser = fxp.XMLParser;
export const XMLValidator: typeof Fxp.XMLValidator = fxp.XMLValidator;
