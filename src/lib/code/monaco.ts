// Everything Monaco, loaded lazily by the Code view only: the editor API without
// the bundled languages, Python colouring, the one editor worker, and y-monaco.

import * as monaco from 'monaco-editor/editor/editor.api';
import 'monaco-editor/languages/definitions/python/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { MonacoBinding } from 'y-monaco';

self.MonacoEnvironment = { getWorker: () => new EditorWorker() };

export { monaco, MonacoBinding };
