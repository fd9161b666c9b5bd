// Comlink ships its Node adapter's types only beside the UMD build; the ESM build that
// Node loads has the same API.
declare module 'comlink/dist/esm/node-adapter.mjs' {
  export { default } from 'comlink/dist/umd/node-adapter';
}
