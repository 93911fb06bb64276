import type { Router } from 'express';

export interface RouteInfo {
  method: string;
  /** The express path pattern under its mount point (`/:type`, `/api/v1/devices/:id`). */
  path: string;
}

interface RouteLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  /** A nested router's layer; `slash` when it is mounted at '/' (express 5 keeps no other mount path). */
  handle?: { stack?: unknown };
  slash?: boolean;
}

/** The routes a router declares (middleware aside), prefixed with its mount point: what a fuzz test walks. */
export function listRoutes(router: Router, prefix: string): RouteInfo[] {
  const out: RouteInfo[] = [];
  for (const layer of router.stack as RouteLayer[]) {
    if (!layer.route) {
      if (layer.slash && Array.isArray(layer.handle?.stack)) out.push(...listRoutes(layer.handle as Router, prefix));
      continue;
    }
    const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
    for (const path of paths) {
      for (const [method, on] of Object.entries(layer.route.methods)) {
        if (on && method !== '_all') out.push({ method: method.toUpperCase(), path: `${prefix}${path === '/' ? '' : path}` || '/' });
      }
    }
  }
  return out;
}
