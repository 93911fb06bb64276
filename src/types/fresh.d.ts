// fresh@2 ships no types; this is the one function APS uses.
declare module 'fresh' {
  export default function fresh(reqHeaders: Record<string, string | undefined>, resHeaders: Record<string, string | undefined>): boolean;
}
