// History (issue 13): activity feed, past states, restore, transcript.
export { HistoryService } from './service.ts';
export { historyPlugin } from './routes.ts';
