// A client-side app: the Node server serves the built shell for every path.
export const ssr = false;
export const prerender = false;
